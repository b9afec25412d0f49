"""Template helpers for the customer pages: Bootstrap fields and amounts as people read them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from smmpanel.core.money import quantize

register = template.Library()

_CHECKS = {"checkbox", "radio"}


@register.filter
def bs_input(field: BoundField, extra: str = "") -> SafeString:
    """A form field's widget with Bootstrap's classes, marked invalid when it has errors."""
    input_type = getattr(field.field.widget, "input_type", "")
    if input_type in _CHECKS:
        css = "form-check-input"
    elif input_type == "select" or field.field.widget.__class__.__name__.endswith("Select"):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    attrs: dict[str, Any] = {"class": f"{css} {extra}".strip()}
    if field.errors:
        attrs["aria-describedby"] = f"{field.auto_id}_errors"
    return field.as_widget(attrs=attrs)


@register.filter
def is_check(field: BoundField) -> bool:
    return getattr(field.field.widget, "input_type", "") in _CHECKS


@register.filter
def amount(value: Decimal | None) -> str:
    """An amount at 2 places, or more when the cents hide something (0.00450 → 0.0045)."""
    if value is None:
        return ""
    exact = quantize(value).normalize()
    if exact.as_tuple().exponent >= -2:  # type: ignore[operator]
        return f"{quantize(value):.2f}"
    return f"{exact:f}"
