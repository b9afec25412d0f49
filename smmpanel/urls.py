from django.contrib import admin
from django.urls import path

from smmpanel.api_v2.views import api_v2
from smmpanel.web.views import home

urlpatterns = [
    path("", home, name="home"),
    path("api/v2", api_v2, name="api_v2"),
    path("api/v2/", api_v2),
    path("admin/", admin.site.urls),
]
