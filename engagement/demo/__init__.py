"""A year of neighbourhood activity, for the demo and the dashboard benchmark: fictional residents joining street
groups at different rates, posting and commenting, meeting at events, getting to know each other, running
initiatives the council backs — then a snapshot for every week of the past year, written by the same
`take_snapshots` the nightly task runs, so every figure on the dashboards comes from the real metrics.

The rows are written in bulk with the dates they would have had (a few thousand for the Cardiff demo, close to a
million for the benchmark), so nothing is notified and no email is sent. Nobody here is real: first names and
initials come from short fixed lists, every email address is @example.org, no address is stored anywhere, and no
one can sign in as them (their passwords are unusable).
"""

from accounts.models import User
from neighbourhoods.models import Council

from .samples import PATHS
from .year import YEAR, AreaPlan, first_email, keeping_created_at, seed_snapshots, seed_year

__all__ = [
    "CARDIFF",
    "PATHS",
    "YEAR",
    "AreaPlan",
    "first_email",
    "keeping_created_at",
    "seed",
    "seed_snapshots",
    "seed_year",
]


# --- Cardiff, for the demo ------------------------------------------------------------------------------------

# Seven neighbourhoods, seven different years. Roath and Cathays grow steadily; Splott takes off after a door-drop
# flyer campaign; Riverside started strong and slowed; Grangetown is small and steady. The two most deprived,
# Butetown and Adamsdown, are the gaps: Butetown's members rarely get to know each other, and hardly anyone in
# Adamsdown has joined. Large areas pass the small-number threshold, small ones show "<10".
CARDIFF = {
    "Roath": {
        "residents": 170,
        "groups": 4,
        "pace": 0.9,
        "connections": 2.0,
        "posts": 1.0,
        "events": 10,
        "turnout": 0.14,
        "initiatives": ("completed", "completed", "active", "active", "planning", "idea", "archived"),
    },
    "Cathays": {
        "residents": 140,
        "groups": 3,
        "pace": 1.0,
        "campaign": 0.78,
        "campaign_share": 0.3,
        "connections": 1.4,
        "posts": 0.8,
        "events": 8,
        "turnout": 0.12,
        "initiatives": ("completed", "active", "paused", "idea"),
    },
    "Splott": {
        "residents": 95,
        "groups": 2,
        "pace": 2.0,
        "campaign": 0.55,
        "campaign_share": 0.35,
        "connections": 1.8,
        "posts": 1.0,
        "events": 9,
        "turnout": 0.18,
        "initiatives": ("active", "planning", "idea"),
    },
    "Grangetown": {
        "residents": 55,
        "groups": 2,
        "pace": 1.0,
        "connections": 1.2,
        "posts": 0.7,
        "events": 6,
        "turnout": 0.15,
        "initiatives": ("completed", "planning"),
    },
    "Riverside": {
        "residents": 40,
        "groups": 2,
        "pace": 0.5,
        "connections": 1.0,
        "posts": 0.5,
        "events": 5,
        "turnout": 0.12,
        "initiatives": ("active", "archived"),
    },
    "Butetown": {
        "residents": 24,
        "groups": 1,
        "pace": 1.3,
        "connections": 0.3,
        "posts": 0.6,
        "events": 4,
        "turnout": 0.2,
        "initiatives": ("idea",),
    },
    "Adamsdown": {
        "residents": 7,
        "groups": 1,
        "pace": 1.0,
        "connections": 0.3,
        "posts": 0.4,
        "events": 2,
        "turnout": 0.3,
    },
}
DEMO_PREFIX = "demo"


def seed(people: dict[str, User]) -> bool:
    """Cardiff's year of activity and a year of weekly snapshots, once. Returns whether they were made now."""
    if User.objects.filter(email=first_email(DEMO_PREFIX)).exists():
        return False
    council = Council.objects.get(code="W06000015")
    areas = {area.name: area for area in council.neighbourhoods.all()}
    plans = [AreaPlan(neighbourhood=areas[name], **plan) for name, plan in CARDIFF.items() if name in areas]
    seed_year(council=council, plans=plans, officer=people.get("officer"), prefix=DEMO_PREFIX)
    seed_snapshots(council=council)
    return True
