from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Profile, User
from core.text import render_markdown


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
    """The profile every account is given when it is made, filled in with these details."""

    class Meta:
        model = Profile

    display_name = factory.Faker("first_name", locale="en_GB")
    language = "en-gb"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        user = kwargs.pop("user")
        try:
            profile = user.profile  # the one the account was given, which `user` holds on to
        except model_class.DoesNotExist:
            profile = model_class(user=user)
        for name, value in kwargs.items():
            setattr(profile, name, value)
        profile.save()
        return profile


class EmailAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAddress

    verified = True
    primary = True


# --- Neighbourhoods -------------------------------------------------------------------------------------------


class CouncilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.Council"

    name = factory.Sequence(lambda n: f"Council {n}")
    slug = factory.Sequence(lambda n: f"council-{n}")
    # Far from the real-looking codes tests spell out (W06000015), so a long run never makes one twice.
    code = factory.Sequence(lambda n: f"W06{500_000 + n:06d}")
    nation = "Wales"


class NeighbourhoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.Neighbourhood"

    council = factory.SubFactory(CouncilFactory)
    name = factory.Sequence(lambda n: f"Neighbourhood {n}")
    slug = factory.Sequence(lambda n: f"neighbourhood-{n}")
    # Far from the real-looking codes tests spell out (W01001897), so a long run never makes one twice.
    code = factory.Sequence(lambda n: f"W01{500_000 + n:06d}")
    households = 1200
    imd_decile = 3


class PostcodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.Postcode"

    # CF10 1AA, CF10 1AB, … : always a valid shape.
    code = factory.Sequence(
        lambda n: f"CF{10 + n // 400} {n % 10}{'ABDEFGHJLN'[n // 10 % 10]}{'PQRSTUWXYZ'[n // 100 % 4]}"
    )
    neighbourhood = factory.SubFactory(NeighbourhoodFactory)


class GroupFactory(factory.django.DjangoModelFactory):
    """A public street group with an open join policy. Add people with `MembershipFactory`."""

    class Meta:
        model = "neighbourhoods.Group"
        skip_postgeneration_save = True

    neighbourhood = factory.SubFactory(NeighbourhoodFactory)
    name = factory.Sequence(lambda n: f"Street group {n}")
    slug = factory.Sequence(lambda n: f"street-group-{n}")
    about = "Neighbours on our street."
    join_policy = "open"
    visibility = "public"

    @factory.post_generation
    def postcodes(self, create, extracted, **kwargs):
        if create and extracted:
            self.postcodes.set(extracted)


class MembershipFactory(factory.django.DjangoModelFactory):
    """An active, verified member (pass role="organiser" for an organiser, verified_at=None for unverified)."""

    class Meta:
        model = "neighbourhoods.Membership"
        # An initiative's lead is made a member by `InitiativeRoleFactory`; a later MembershipFactory for the same
        # person and group updates that row rather than colliding with it.
        django_get_or_create = ("group", "user")

    @classmethod
    def _get_or_create(cls, model_class, *args, **kwargs):
        lookup = {field: kwargs.pop(field) for field in cls._meta.django_get_or_create if field in kwargs}
        manager = cls._get_manager(model_class)
        existing = manager.filter(**lookup).first() if len(lookup) == 2 else None
        if existing is None:
            return manager.create(*args, **lookup, **kwargs)
        for field, value in kwargs.items():
            setattr(existing, field, value)
        existing.save()
        return existing

    group = factory.SubFactory(GroupFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"
    status = "active"
    joined_at = factory.LazyFunction(timezone.now)
    verified_at = factory.LazyFunction(timezone.now)
    verified_by = "approval"


class JoinCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.JoinCode"

    group = factory.SubFactory(GroupFactory)
    code = factory.Sequence(lambda n: f"CODE{n:04d}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.Post"

    group = factory.SubFactory(GroupFactory)
    author = factory.SubFactory(UserFactory)
    kind = "notice"
    title = factory.Sequence(lambda n: f"Notice {n}")
    body = "Bins go out on Thursday this week."
    body_html = factory.LazyAttribute(lambda post: render_markdown(post.body))


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.Comment"

    post = factory.SubFactory(PostFactory)
    author = factory.SubFactory(UserFactory)
    body = "Thanks for the reminder!"
    body_html = factory.LazyAttribute(lambda comment: render_markdown(comment.body))


class EventFactory(factory.django.DjangoModelFactory):
    """An event a week from now, two hours long, with no limit on places."""

    class Meta:
        model = "neighbourhoods.Event"

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Street meet-up {n}")
    description = "Tea and cake on the green."
    description_html = factory.LazyAttribute(lambda event: render_markdown(event.description))
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda event: event.starts_at + timedelta(hours=2))
    place = "The green by the library"


class RSVPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "neighbourhoods.RSVP"

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(UserFactory)
    status = "going"


# --- Initiatives --------------------------------------------------------------------------------------------


class CouncilMembershipFactory(factory.django.DjangoModelFactory):
    """An officer with an authenticator app set up, as council pages require (pass totp=False for one without)."""

    class Meta:
        model = "neighbourhoods.CouncilMembership"
        skip_postgeneration_save = True

    council = factory.SubFactory(CouncilFactory)
    user = factory.SubFactory(UserFactory)
    role = "officer"

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            activate_totp(self.user)


def activate_totp(user, secret: str | None = None) -> str:
    """Turn on two-step sign-in for `user` with allauth's own activation (unless it is on already); returns the
    secret, for a test that needs to type a code."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return ""
    secret = secret or generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


class InitiativeFactory(factory.django.DjangoModelFactory):
    """An idea in a public street group, with no lead yet: add one with `InitiativeRoleFactory(role="lead")`."""

    class Meta:
        model = "initiatives.Initiative"

    group = factory.SubFactory(GroupFactory)
    neighbourhood = factory.LazyAttribute(lambda initiative: initiative.group.neighbourhood)
    title = factory.Sequence(lambda n: f"Community garden {n}")
    slug = factory.Sequence(lambda n: f"community-garden-{n}")
    summary = "Turning the empty plot into a garden for everyone."
    description = "We need **compost**, tools and people."
    description_html = factory.LazyAttribute(lambda initiative: render_markdown(initiative.description))
    category = "green_spaces"
    place = "The empty plot behind the library"
    status = "idea"


class InitiativeRoleFactory(factory.django.DjangoModelFactory):
    """A lead (or co-organiser) who is also an active member where the initiative lives, as organisers must be."""

    class Meta:
        model = "initiatives.InitiativeRole"
        skip_postgeneration_save = True

    initiative = factory.SubFactory(InitiativeFactory)
    user = factory.SubFactory(UserFactory)
    role = "lead"
    status = "active"

    @factory.post_generation
    def membership(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        from neighbourhoods.models import Membership

        group = self.initiative.group
        if group is None:
            group = GroupFactory(neighbourhood=self.initiative.neighbourhood)
        if not Membership.objects.filter(group=group, user=self.user).exists():
            MembershipFactory(group=group, user=self.user)


class VolunteerRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.VolunteerRole"

    initiative = factory.SubFactory(InitiativeFactory)
    title = factory.Sequence(lambda n: f"Digger {n}")
    description = "Help dig the beds."
    slots = 5


class AskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.Ask"

    initiative = factory.SubFactory(InitiativeFactory)
    kind = "materials"
    title = "Bags of compost"
    target = 20
    unit = "bags"


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.Decision"

    initiative = factory.SubFactory(InitiativeFactory)
    kind = "proposal"
    question = "Shall we plant fruit trees?"
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class CouncilOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.CouncilOffer"

    council = factory.SubFactory(CouncilFactory)
    kind = "grant"
    title = "Small grant up to £500"
    description = "For community projects that bring neighbours together."
    amount = 500
