"""Demo data for the embedded quick start: people for each role, their neighbours, Cardiff's street groups and
initiatives, and a year of made-up activity across Cardiff with weekly snapshots for the council's dashboards.

Safe to run again and again: what is already there is left as it is.
"""

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from accounts import services as account_services
from accounts.models import User
from engagement import demo as engagement_demo
from initiatives import demo as initiatives_demo
from neighbourhoods import demo as neighbourhoods_demo

CARDIFF_CODE = "W06000015"
DEMO_PASSWORD = "neighbours-together"  # noqa: S105 - published on purpose, for local demos only
# Council officers must use two-step sign-in. The demo officer's authenticator key is published too: add it to an
# authenticator app, or run `manage.py demo_code` for the current code.
DEMO_TOTP_SECRET = "STRONGERSTREETSDEMOCARDIFF234567"  # noqa: S105 - published on purpose, for local demos only


@dataclass(frozen=True)
class DemoPerson:
    key: str
    email: str
    display_name: str
    bio: str
    language: str = "en-gb"
    is_staff: bool = False
    interests: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    role: str = "neighbour"


PEOPLE = [
    DemoPerson(
        "resident",
        "resident@example.org",
        "Rhiannon",
        "Moved to Clifton Street last spring. Keen gardener, learning to bake bread.",
        language="cy",
        interests=["gardening", "baking", "dogs"],
        skills=["happy to water plants", "Welsh conversation practice"],
        role="resident",
    ),
    DemoPerson(
        "organiser",
        "organiser@example.org",
        "Omar",
        "I run the Clifton Street group. Litter picks most months.",
        interests=["cycling", "gardening"],
        skills=["can lend tools", "basic bike repairs"],
        role="organiser",
    ),
    DemoPerson(
        "officer",
        "officer@example.org",
        "Olivia (council)",
        "Community development officer.",
        role="council officer",
    ),
    DemoPerson(
        "admin",
        "admin@example.org",
        "Site admin",
        "Looks after this Stronger Streets site.",
        is_staff=True,
        role="admin",
    ),
]

NEIGHBOURS = [
    DemoPerson(
        "aled",
        "aled@example.org",
        "Aled at number 3",
        "Retired joiner.",
        interests=["gardening", "rugby"],
        skills=["can lend tools", "odd jobs"],
        language="cy",
    ),
    DemoPerson(
        "bethan",
        "bethan@example.org",
        "Bethan",
        "Teacher and bike fixer.",
        interests=["cycling", "reading"],
        skills=["basic bike repairs"],
    ),
    DemoPerson("chidi", "chidi@example.org", "Chidi", "New dad, no sleep.", interests=["cooking", "football"]),
    DemoPerson(
        "dafydd",
        "dafydd@example.org",
        "Dafydd",
        "Market regular.",
        interests=["baking", "music"],
        skills=["can give lifts"],
        language="cy",
    ),
    DemoPerson(
        "eleri",
        "eleri@example.org",
        "Eleri at number 9",
        "Cat owner, tea maker.",
        interests=["gardening", "baking"],
        skills=["happy to check on older neighbours"],
    ),
    DemoPerson(
        "farah",
        "farah@example.org",
        "Farah",
        "Runs the Butetown lunch club.",
        interests=["cooking"],
        skills=["happy to check on older neighbours", "Arabic and English"],
    ),
    DemoPerson(
        "gareth",
        "gareth@example.org",
        "Gareth",
        "Shops on Thursdays.",
        interests=["football"],
        skills=["can pick up shopping"],
    ),
    DemoPerson("hannah", "hannah@example.org", "Hannah", "Friends of the green.", interests=["gardening", "wildlife"]),
    DemoPerson(
        "imran", "imran@example.org", "Imran", "Builds benches.", interests=["woodwork"], skills=["can lend tools"]
    ),
    DemoPerson("jess", "jess@example.org", "Jess", "Picnic enthusiast.", interests=["wildlife", "reading"]),
    DemoPerson("kwame", "kwame@example.org", "Kwame", "Cook and neighbour.", interests=["cooking", "music"]),
    DemoPerson("lowri", "lowri@example.org", "Lowri", "Just moved in.", interests=["gardening"], language="cy"),
]


def _person(person: DemoPerson) -> tuple[User, bool]:
    user = User.objects.filter(email=person.email).first()
    created = user is None
    if created:
        create = User.objects.create_superuser if person.is_staff else User.objects.create_user
        user = create(person.email, DEMO_PASSWORD, display_name=person.display_name)
        account_services.update_profile(
            user=user,
            display_name=person.display_name,
            bio=person.bio,
            language=person.language,
            interests=person.interests,
            skills=person.skills,
            in_directory=bool(person.interests or person.skills),
        )
    EmailAddress.objects.update_or_create(user=user, email=person.email, defaults={"verified": True, "primary": True})
    return user, created


def _authenticator_app(user: User) -> None:
    """Turn on two-step sign-in with the published demo key, as allauth's own set-up page would."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)


@transaction.atomic
def seed() -> tuple[list[tuple[DemoPerson, bool]], bool, bool]:
    """Create the demo people (verified, with profiles), Cardiff's street groups and initiatives, and a year of
    activity with its weekly snapshots.

    Returns each role's person and whether they were new, whether the groups or initiatives were made this time, and
    whether the year of activity was.
    """
    results = []
    users: dict[str, User] = {}
    for person in PEOPLE + NEIGHBOURS:
        user, created = _person(person)
        users[person.key] = user
        if person in PEOPLE:
            results.append((person, created))
    _authenticator_app(users["officer"])
    groups_made = neighbourhoods_demo.seed(users)
    initiatives_made = initiatives_demo.seed(users)
    year_made = engagement_demo.seed(users)
    return results, groups_made or initiatives_made, year_made
