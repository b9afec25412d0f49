"""Mass order: one order per line, `service_id|link|quantity`, each placed on its own.

Every line is its own `order_place` call (its own transaction), so a bad line refuses only
itself; the valid ones are placed. The results are kept in the session for the page the
browser is sent back to, so reloading it shows them again instead of ordering twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from smmpanel.accounts.models import Customer
from smmpanel.core.errors import PanelError
from smmpanel.core.money import ZERO
from smmpanel.core.parsing import parse_id
from smmpanel.orders.request import OrderRequest
from smmpanel.orders.services import order_place
from smmpanel.web.errors import error_message
from smmpanel.web.views.order_new import customer_or_404, parameter_label

#: Lines taken in one submit: each is a transaction, and the page lists every one.
MAX_LINES = 100
_SESSION_KEY = "order_mass_results"
#: How much of a line the results repeat.
_SHOWN = 300


class MassOrderForm(forms.Form):
    orders = forms.CharField(
        label=_("Orders"),
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 10,
                "placeholder": "1|https://instagram.com/p/abc|1000\n2|https://youtu.be/xyz|500",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Worded here, per request: a lazy text filled in at import stays in one language.
        self.fields["orders"].help_text = _(
            "One order per line: service ID|link|quantity. At most %(n)d lines."
        ) % {"n": MAX_LINES}

    def clean_orders(self) -> list[tuple[int, str]]:
        """The non-blank lines, each with its number in the box."""
        lines = [
            (number, line.strip())
            for number, line in enumerate(self.cleaned_data["orders"].splitlines(), 1)
            if line.strip()
        ]
        if not lines:
            raise forms.ValidationError(_("Write at least one order."))
        if len(lines) > MAX_LINES:
            raise forms.ValidationError(
                _("At most %(max)d orders at once; this has %(n)d. Nothing was placed.")
                % {"max": MAX_LINES, "n": len(lines)}
            )
        return lines


@dataclass(frozen=True)
class LineResult:
    line: int
    text: str
    order_id: int | None = None
    charge: Decimal | None = None
    error: str = ""

    def to_session(self) -> dict[str, Any]:
        return {**asdict(self), "charge": None if self.charge is None else str(self.charge)}

    @classmethod
    def from_session(cls, saved: dict[str, Any]) -> LineResult:
        charge = saved["charge"]
        return cls(**{**saved, "charge": None if charge is None else Decimal(charge)})


def _place_line(customer: Customer, number: int, text: str) -> LineResult:
    parts = text.split("|")
    shown = text[:_SHOWN]
    if len(parts) < 3:
        error = _("Write the line as service ID|link|quantity.")
        return LineResult(number, shown, error=str(error))
    # The link is what lies between the first and the last bar: a link may hold one.
    request = OrderRequest.from_text({"link": "|".join(parts[1:-1]), "quantity": parts[-1]})
    try:
        order = order_place(
            customer=customer, service_id=parse_id(parts[0]), params=request, actor="web"
        )
    except PanelError as refusal:
        words = error_message(refusal)
        if refusal.field:
            words = f"{parameter_label(refusal.field)}: {words}"
        return LineResult(number, shown, error=words)
    return LineResult(number, shown, order_id=order.pk, charge=order.charge)


@login_required
@require_http_methods(["GET", "POST"])
def order_mass(request: HttpRequest) -> HttpResponse:
    customer = customer_or_404(request)
    if request.method == "POST":
        form = MassOrderForm(request.POST)
        if form.is_valid():
            lines = form.cleaned_data["orders"]
            results = [_place_line(customer, number, text) for number, text in lines]
            request.session[_SESSION_KEY] = {
                "results": [r.to_session() for r in results],
                # The lines refused, whole, back in the box to be put right.
                "failed": "\n".join(
                    text for (_n, text), r in zip(lines, results, strict=True) if r.error
                ),
            }
            return redirect("web:order_mass")
        return render(request, "web/order_mass.html", {"form": form})
    context: dict[str, Any] = {}
    outcome = request.session.pop(_SESSION_KEY, None)
    if outcome is not None:
        results = [LineResult.from_session(r) for r in outcome["results"]]
        context.update(
            results=results,
            placed=sum(1 for r in results if r.order_id),
            total=sum((r.charge for r in results if r.charge is not None), ZERO),
        )
        form = MassOrderForm(initial={"orders": outcome["failed"]})
    else:
        form = MassOrderForm()
    return render(request, "web/order_mass.html", {"form": form, **context})
