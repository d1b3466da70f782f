"""The initiatives of the demo's year: each reached its status now through the steps it would have taken, with its
lead, supporters, volunteers, an outcome once completed, and council backing once active."""

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.text import slugify
from django.utils.translation import gettext_noop

from accounts.models import User
from initiatives.models import (
    Backing,
    Initiative,
    InitiativeRole,
    Outcome,
    StatusChange,
    Support,
    TimelineEntry,
    VolunteerRole,
    VolunteerSignup,
)
from initiatives.services.initiatives import PROPOSED_MESSAGE, STATUS_MESSAGES
from neighbourhoods.models import Group

from .samples import INITIATIVES, PATHS, VOLUNTEER_ROLES

if TYPE_CHECKING:
    from .year import AreaPlan, YearWriter

DAY = timedelta(days=1)
BACKED_MESSAGE = gettext_noop("%(council)s backed this initiative: %(offer)s")  # as `approve_backing` records it


def write(year: "YearWriter", groups: "list[tuple[Group, AreaPlan, list]]") -> None:
    """Write the initiatives of these street groups' neighbourhoods, as their plans list them."""
    by_area: dict[int, list] = {}
    for entry in groups:
        by_area.setdefault(entry[1].neighbourhood.pk, []).append(entry)
    initiatives, roles, changes, entries, supports = [], [], [], [], []
    volunteer_roles, signups, outcomes, backings = [], [], [], []
    for area_groups in by_area.values():
        for n, status in enumerate(area_groups[0][1].initiatives):
            group, plan, mine = area_groups[n % len(area_groups)]
            steps = [(to, timedelta(days=year.rng.randint(low, high))) for to, low, high in PATHS[status]]
            latest = year.now - sum((length for _, length in steps), timedelta()) - 2 * DAY
            proposed = year.between(max(group.created_at + 7 * DAY, latest - 120 * DAY), latest)
            history = [("idea", proposed)]
            for to, length in steps:
                history.append((to, history[-1][1] + length))
            reached = dict(history)
            what, category, summary = INITIATIVES[(plan.neighbourhood.pk + n) % len(INITIATIVES)]
            title = f"{plan.neighbourhood.name} {what}"
            earlier = [user for user, joined in mine if joined < proposed]
            lead = year.rng.choice(earlier or [mine[0][0]])
            backers = [user for user, _ in mine if user is not lead]
            chosen = year.rng.sample(backers, min(len(backers), year.rng.randint(2, 25)))
            supported = [(user, year.soon_after(proposed, 20)) for user in chosen]
            supported = [(user, when) for user, when in supported if when < year.now]
            initiative = Initiative(
                group=group if n % 3 else None,  # every third is for the whole neighbourhood
                neighbourhood=plan.neighbourhood,
                title=title,
                slug=f"{slugify(title)}-{year.prefix}-{plan.neighbourhood.pk}-{n}"[:140],
                summary=summary,
                category=category,
                status=status,
                created_by=lead,
                support_count=len(supported),
                created_at=proposed,
            )
            initiatives.append(initiative)
            roles.append(
                InitiativeRole(
                    initiative=initiative,
                    user=lead,
                    role=InitiativeRole.Role.LEAD,
                    status=InitiativeRole.Status.ACTIVE,
                    created_at=proposed,
                )
            )
            supports += [Support(initiative=initiative, user=user, created_at=when) for user, when in supported]
            name = lead.profile.display_name
            previous = ""
            for to, when in history:
                changes.append(
                    StatusChange(
                        initiative=initiative, from_status=previous, to_status=to, changed_by=lead, created_at=when
                    )
                )
                entries.append(
                    TimelineEntry(
                        initiative=initiative,
                        kind=TimelineEntry.Kind.STATUS if previous else TimelineEntry.Kind.CREATED,
                        actor=lead,
                        message=STATUS_MESSAGES[to] if previous else PROPOSED_MESSAGE,
                        params={"name": name},
                        created_at=when,
                    )
                )
                previous = to
            if "planning" in reached and status != Initiative.Status.ARCHIVED:
                for title, slots in VOLUNTEER_ROLES[: 1 + len(mine) // 40]:
                    role = VolunteerRole(
                        initiative=initiative, title=title, slots=slots, created_at=reached["planning"]
                    )
                    volunteers = year.rng.sample(backers, min(slots, len(backers), year.rng.randint(1, slots)))
                    role.filled = len(volunteers)
                    volunteer_roles.append(role)
                    signups += [
                        VolunteerSignup(role=role, user=user, created_at=year.between(role.created_at, year.now))
                        for user in volunteers
                    ]
            if "completed" in reached:
                people = max(len(supported), 3)
                outcomes.append(
                    Outcome(
                        initiative=initiative,
                        people_involved=people,
                        volunteer_hours=Decimal(people * year.rng.randint(15, 40)) / 10,
                        what_changed="Neighbours who had never spoken now say hello, and the work got done.",
                        recorded_by=lead,
                        created_at=reached["completed"],
                    )
                )
            backing = _backing(year, initiative, lead, reached)
            if backing is not None:
                backings.append(backing)
                if backing.status == Backing.Status.APPROVED:
                    entries.append(
                        TimelineEntry(
                            initiative=initiative,
                            kind=TimelineEntry.Kind.COUNCIL,
                            actor=year.officer,
                            message=BACKED_MESSAGE,
                            params={"council": year.council.name, "offer": backing.offer.title},
                            created_at=backing.decided_at,
                        )
                    )
    year.save(Initiative, initiatives)
    year.save(InitiativeRole, roles)
    year.save(StatusChange, changes)
    year.save(TimelineEntry, entries)
    year.save(Support, supports)
    year.save(VolunteerRole, volunteer_roles)
    year.save(VolunteerSignup, signups)
    year.save(Outcome, outcomes)
    year.save(Backing, backings)


def _backing(year: "YearWriter", initiative: Initiative, lead: User, reached: dict) -> Backing | None:
    """Once active, an initiative asked for one of the council's offers and got it (and most took it up); one
    still planning has asked and waits for an answer."""
    if not year.offers or initiative.status in (Initiative.Status.IDEA, Initiative.Status.ARCHIVED):
        return None
    offer = year.offers[year.rng.randrange(len(year.offers))]
    if "active" not in reached:
        if initiative.status != Initiative.Status.PLANNING:
            return None
        return Backing(
            offer=offer,
            initiative=initiative,
            request_note="Could the council help us get started?",
            requested_by=lead,
            created_at=year.between(reached["planning"], year.now),
        )
    decided = year.soon_after(reached["active"], 5)
    if decided >= year.now:
        return None
    taken = year.soon_after(decided, 12)
    return Backing(
        offer=offer,
        initiative=initiative,
        status=Backing.Status.APPROVED,
        request_note="We have a plan and neighbours ready to help.",
        requested_by=lead,
        response="Delighted to help.",
        decided_by=year.officer,
        decided_at=decided,
        taken_up_at=taken if taken < year.now else None,
        created_at=reached["active"],
    )
