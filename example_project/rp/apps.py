from django.apps import AppConfig


class RelyingPartyConfig(AppConfig):
    name = "example_project.rp"
    label = "rp"
    verbose_name = "Demo relying party"
