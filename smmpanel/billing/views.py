"""The gateways' side of the panel: the webhook every gateway calls, and the demo gateway's
hosted page. Both only call billing's services."""

from __future__ import annotations

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from smmpanel.billing.gateways.base import GatewayError, Urls
from smmpanel.billing.gateways.demo import Demo, demo_send_callback
from smmpanel.billing.models import CallbackOutcome, PaymentMethod, PaymentStatus
from smmpanel.billing.selectors import payment_by_uid
from smmpanel.billing.services import payment_callback_receive
from smmpanel.core.ratelimit import client_address

#: No gateway sends more than a few kilobytes; a larger body is not kept.
MAX_CALLBACK_BYTES = 64 * 1024


def payment_urls(request: HttpRequest, method: PaymentMethod, return_to: str) -> Urls:
    """The absolute URLs a gateway needs for a payment made from `request`."""
    return Urls(
        callback=request.build_absolute_uri(reverse("payment_callback", args=[method.code])),
        return_to=request.build_absolute_uri(return_to),
        site=request.build_absolute_uri("/"),
    )


@csrf_exempt  # gateways sign their callbacks; they hold no session nor CSRF token
@require_POST
def payment_callback(request: HttpRequest, code: str) -> HttpResponse:
    """Every gateway's webhook: /payments/callback/<method code>. 200 for whatever was read
    (a retry would change nothing), 400 for what is not from the gateway."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_CALLBACK_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    headers = {name.lower(): value for name, value in request.headers.items()}
    record = payment_callback_receive(
        method_code=code,
        headers=headers,
        body=request.body,
        remote_addr=client_address(request),
    )
    if record.outcome == CallbackOutcome.REFUSED:
        return JsonResponse({"received": False, "error": "refused"}, status=400)
    return JsonResponse({"received": True})


@require_http_methods(["GET", "POST"])
def demo_checkout(request: HttpRequest, uid: str) -> HttpResponse:
    """The demo gateway's hosted page: Pay or Fail, then the gateway calls the webhook
    (over HTTP, signed) and sends the customer back to the panel."""
    payment = payment_by_uid(uid)
    if payment is None or payment.method.gateway != Demo.code:
        raise Http404("no such demo payment")
    error = ""
    if request.method == "POST" and payment.status == PaymentStatus.PENDING:
        callback = request.build_absolute_uri(
            reverse("payment_callback", args=[payment.method.code])
        )
        try:
            demo_send_callback(
                method=payment.method,
                payment=payment,
                paid=request.POST.get("outcome") == "pay",
                callback_url=callback,
            )
        except GatewayError as exc:
            error = str(exc)
        else:
            if payment.return_url:
                return HttpResponseRedirect(payment.return_url)
            payment = get_object_or_404(type(payment), pk=payment.pk)
    return render(request, "billing/demo_checkout.html", {"payment": payment, "error": error})
