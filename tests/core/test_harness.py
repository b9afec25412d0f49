from decimal import Decimal, FloatOperation

import pytest

from smmpanel.accounts.models import Customer
from tests.factories import make_customer


def test_float_operations_are_trapped():
    with pytest.raises(FloatOperation):
        Decimal("1.5") < 1.5  # noqa: B015


@pytest.mark.django_db
def test_ledger_check_sees_a_balance_changed_behind_the_ledger(request):
    customer, _ = make_customer("10")
    from smmpanel.billing.services import ledger_verify

    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("11"))
    problems = ledger_verify()
    assert [p.customer_id for p in problems] == [customer.pk]
    # Put it right so the suite-wide check after this test passes.
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("10"))
