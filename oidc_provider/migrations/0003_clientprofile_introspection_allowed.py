from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("oidc_provider", "0002_authentication_context"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientprofile",
            name="introspection_allowed",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "RFC 7662: a confidential client (a resource server) that may ask whether any token "
                    "is active. Public clients never may."
                ),
                verbose_name="may introspect tokens",
            ),
        ),
    ]
