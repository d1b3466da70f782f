"""Demo data for the embedded quick start: a few people, one for each role. Safe to run again and again."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import Profile, User

DEMO_PASSWORD = "neighbours-together"  # noqa: S105 - published on purpose, for local demos only


@dataclass(frozen=True)
class DemoPerson:
    role: str
    email: str
    display_name: str
    bio: str
    language: str = "en-gb"
    is_staff: bool = False


PEOPLE = [
    DemoPerson(
        "resident",
        "resident@example.org",
        "Rhiannon",
        "Moved to Heol y Bont last spring. Keen gardener, happy to lend tools.",
        language="cy",
    ),
    DemoPerson(
        "organiser",
        "organiser@example.org",
        "Omar",
        "I run the Clifton Street group. Litter picks most months.",
    ),
    DemoPerson("council officer", "officer@example.org", "Olivia (council)", "Community development officer."),
    DemoPerson("admin", "admin@example.org", "Site admin", "Looks after this Stronger Streets site.", is_staff=True),
]


@transaction.atomic
def seed() -> list[tuple[DemoPerson, bool]]:
    """Create the demo people (verified, with profiles). Returns each person and whether they were new."""
    results = []
    for person in PEOPLE:
        user = User.objects.filter(email=person.email).first()
        created = user is None
        if created:
            create = User.objects.create_superuser if person.is_staff else User.objects.create_user
            user = create(person.email, DEMO_PASSWORD, display_name=person.display_name)
        Profile.objects.filter(user=user).update(
            display_name=person.display_name, bio=person.bio, language=person.language
        )
        EmailAddress.objects.update_or_create(
            user=user, email=person.email, defaults={"verified": True, "primary": True}
        )
        results.append((person, created))
    return results
