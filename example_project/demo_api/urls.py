from django.urls import path

from . import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="api-me"),
    path("orders", views.OrdersView.as_view(), name="api-orders"),
]
