from django.urls import path

from . import views

# Mounted twice by the example project (namespaces "rp" and "rp2"): two relying parties.
app_name = "rp"
urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("callback", views.callback, name="callback"),
    path("api", views.call_api_again, name="api"),
    path("logout", views.logout, name="logout"),
    path("backchannel-logout", views.backchannel_logout, name="backchannel-logout"),
]
