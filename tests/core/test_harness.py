import subprocess
import sys
import textwrap
import tomllib
from decimal import Decimal, FloatOperation
from pathlib import Path

import pytest

from smmpanel.accounts.models import Customer
from tests.factories import make_customer

ROOT = Path(__file__).resolve().parents[2]


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


def test_xdist_groups_share_one_process(tmp_path):
    """`panel_processes` tests rely on `--dist loadgroup` keeping a group in one process.

    pytest-xdist does it by renaming test ids, which some pytest releases silently ignore:
    then the group is spread over processes with no error, so prove it with the project's
    own pytest options on a throwaway suite."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    addopts = pyproject["tool"]["pytest"]["ini_options"]["addopts"]
    (tmp_path / "pytest.ini").write_text(f"[pytest]\naddopts = {addopts}\n")
    test = textwrap.dedent(
        """
        import os
        from pathlib import Path

        import pytest

        def record(name):
            Path(name).write_text(os.environ["PYTEST_XDIST_WORKER"])

        @pytest.mark.xdist_group("heavy")
        @pytest.mark.parametrize("n", range(3))
        def test_grouped(n):
            record(f"{__name__}-{n}.grouped")

        @pytest.mark.parametrize("n", range(3))
        def test_free(n):
            record(f"{__name__}-{n}.free")
        """
    )
    for name in ("test_one.py", "test_two.py"):
        (tmp_path / name).write_text(test)

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:django"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    grouped = {p.read_text() for p in tmp_path.glob("*.grouped")}
    everyone = grouped | {p.read_text() for p in tmp_path.glob("*.free")}
    assert len(list(tmp_path.glob("*.grouped"))) == 6
    assert len(everyone) == 2, "the throwaway suite did not run in two processes"
    assert len(grouped) == 1, f"one xdist_group ran in several processes: {sorted(grouped)}"
