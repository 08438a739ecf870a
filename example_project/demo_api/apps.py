from django.apps import AppConfig


class DemoApiConfig(AppConfig):
    name = "example_project.demo_api"
    label = "demo_api"
    default_auto_field = "django.db.models.BigAutoField"
