import factory
from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model

from oidc_provider import keys
from oidc_provider.models import ClientProfile, SigningKey

Application = get_application_model()
CLIENT_SECRET = "s3cret-client-secret"
PASSWORD = "password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A confidential authorization-code client with a known (hashed) secret."""

    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"client {n}")
    client_id = factory.Sequence(lambda n: f"client-{n}")
    client_secret = CLIENT_SECRET
    client_type = Application.CLIENT_CONFIDENTIAL
    authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    redirect_uris = "https://rp.example.com/callback"
    algorithm = Application.RS256_ALGORITHM
    skip_authorization = True


class ClientCredentialsApplicationFactory(ApplicationFactory):
    authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS


class PublicApplicationFactory(ApplicationFactory):
    client_type = Application.CLIENT_PUBLIC
    client_secret = ""


class ClientProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientProfile
        django_get_or_create = ("application",)

    application = factory.SubFactory(ApplicationFactory)


class SigningKeyFactory(factory.django.DjangoModelFactory):
    """A stored key; generated through the real lifecycle code."""

    class Meta:
        model = SigningKey

    algorithm = "RS256"
    state = SigningKey.State.ACTIVE

    @classmethod
    def _create(cls, model_class, algorithm="RS256", state=SigningKey.State.ACTIVE, **kwargs):
        return keys.create_key(algorithm, state=state)


class IntrospectorFactory(ClientCredentialsApplicationFactory):
    """A resource server's confidential client that may introspect tokens (RFC 7662)."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def _may_introspect(obj, create, extracted, **kwargs):
        if create:
            ClientProfileFactory(application=obj, introspection_allowed=True)
