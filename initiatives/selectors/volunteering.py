"""Reads for volunteering. Callers have already loaded the initiative for this viewer (`get_initiative_context`,
which 404s for anyone who may not see it); each function runs a fixed number of queries whatever the data size."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..models import Initiative, VolunteerRole, VolunteerSignup
from . import InitiativeContext
from . import is_organiser as shared_is_organiser

# The stages in which people may sign up (and pledge), and the ones after which the record stands. A paused
# initiative is in neither: no new promises, but people may still drop out. See services.volunteering.
OPEN_FOR_SIGN_UPS = frozenset({Initiative.Status.IDEA, Initiative.Status.PLANNING, Initiative.Status.ACTIVE})
FINISHED = frozenset({Initiative.Status.COMPLETED, Initiative.Status.ARCHIVED})


def has_ended(role: VolunteerRole, now=None) -> bool:
    """A dated role is over once its end (or, with no end, its start) has passed; an undated role never is."""
    last = role.ends_at or role.starts_at
    return last is not None and last <= (now or timezone.now())


def is_organiser(user, initiative: Initiative) -> bool:
    """The lead or an accepted co-organiser who is still a member: what the services check before an organiser's
    action (one query)."""
    return shared_is_organiser(user, initiative)


def get_role(*, initiative: Initiative, role_id: int) -> VolunteerRole:
    """One of the initiative's roles (with the initiative loaded), or a 404."""
    return get_object_or_404(
        VolunteerRole.objects.filter(initiative=initiative).select_related("initiative"), pk=role_id
    )


def list_roles(*, ctx: InitiativeContext, viewer) -> QuerySet:
    """The initiative's roles, dated ones soonest first and then the rest, each with `is_mine` (has the viewer signed
    up?) and, for the lead and co-organisers only, `people`: the sign-ups with profiles, oldest first.

    One query, plus one for the people when the viewer organises.
    """
    roles = VolunteerRole.objects.filter(initiative=ctx.initiative).select_related("initiative")
    if viewer.is_authenticated:
        roles = roles.annotate(is_mine=Exists(VolunteerSignup.objects.filter(role=OuterRef("pk"), user=viewer)))
    else:
        roles = roles.annotate(is_mine=Value(False))
    if ctx.can_organise:
        people = VolunteerSignup.objects.select_related("user__profile").order_by("created_at", "pk")
        roles = roles.prefetch_related(Prefetch("signups", queryset=people, to_attr="people"))
    return roles.order_by("starts_at", "pk")


@dataclass(frozen=True)
class VolunteerPage:
    roles: list[VolunteerRole]
    my_roles: list[VolunteerRole]  # what the viewer has signed up for, in the same order
    can_organise: bool
    can_participate: bool
    sign_ups_open: bool  # the initiative's stage allows new volunteers
    withdrawals_open: bool

    @property
    def can_manage(self) -> bool:
        """Organisers add, change and remove roles until the initiative is completed or archived."""
        return self.can_organise and self.withdrawals_open


def volunteer_page(*, ctx: InitiativeContext, viewer) -> VolunteerPage:
    """Everything the volunteer page shows this viewer (one or two queries). Each role also carries `has_ended`."""
    now = timezone.now()
    roles = list(list_roles(ctx=ctx, viewer=viewer))
    for role in roles:
        role.has_ended = has_ended(role, now)
    status = ctx.initiative.status
    return VolunteerPage(
        roles=roles,
        my_roles=[role for role in roles if role.is_mine],
        can_organise=ctx.can_organise,
        can_participate=ctx.can_participate,
        sign_ups_open=status in OPEN_FOR_SIGN_UPS,
        withdrawals_open=status not in FINISHED,
    )
