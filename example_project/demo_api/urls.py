from django.urls import path

from . import views
from .ninja_api import api as ninja_api

urlpatterns = [
    path("me", views.MeView.as_view(), name="api-me"),
    path("orders", views.OrdersView.as_view(), name="api-orders"),
    path("ninja/", ninja_api.urls),
]
