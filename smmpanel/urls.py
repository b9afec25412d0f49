from django.contrib import admin
from django.urls import include, path

from smmpanel.api_v2.views import api_v2
from smmpanel.billing.views import demo_checkout, payment_callback
from smmpanel.core.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v2", api_v2, name="api_v2"),
    path("api/v2/", api_v2),
    path("payments/callback/<slug:code>", payment_callback, name="payment_callback"),
    path("payments/demo/<uuid:uid>/", demo_checkout, name="payment_demo_checkout"),
    path("admin/", admin.site.urls),
    # allauth: log in, sign up, password reset, e-mail, two-factor (allauth.mfa).
    path("accounts/", include("allauth.urls")),
    path("", include("smmpanel.web.urls")),
]
