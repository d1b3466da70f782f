import factory
from allauth.account.models import EmailAddress

from accounts.models import Profile, User


class UserFactory(factory.django.DjangoModelFactory):
    """A resident whose email is verified: they can sign in straight away."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"neighbour{n}@example.org")
    password = factory.django.Password("correct-horse-battery-staple")
    profile = factory.RelatedFactory("tests.factories.ProfileFactory", factory_related_name="user")
    verified_email = factory.RelatedFactory(
        "tests.factories.EmailAddressFactory",
        factory_related_name="user",
        email=factory.SelfAttribute("..email"),
    )


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile
        django_get_or_create = ("user",)

    display_name = factory.Faker("first_name", locale="en_GB")
    language = "en-gb"


class EmailAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAddress

    verified = True
    primary = True
