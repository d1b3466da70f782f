"""Reads for initiatives. Feature-specific reads live beside this module: `selectors.<feature>`."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from neighbourhoods.models import CouncilMembership, Membership

from .. import permissions
from ..models import Backing, Initiative, InitiativeRole


@dataclass(frozen=True)
class InitiativeContext:
    """An initiative as one viewer sees it, with what they are to it."""

    initiative: Initiative
    role: InitiativeRole | None  # the viewer's lead / co-organiser role, if any (active or invited)
    is_member: bool  # of the group, or of any group in the neighbourhood for a neighbourhood-wide initiative
    is_officer: bool  # of the initiative's council

    @property
    def is_lead(self) -> bool:
        return self.role is not None and self.role.status == "active" and self.role.role == "lead"

    @property
    def is_co_organiser(self) -> bool:
        return self.role is not None and self.role.status == "active" and self.role.role == "co_organiser"

    @property
    def is_invited(self) -> bool:
        return self.role is not None and self.role.status == "invited"

    @property
    def can_organise(self) -> bool:
        return permissions.can_organise(self)

    @property
    def can_participate(self) -> bool:
        return permissions.can_participate(self)


def initiatives_with_badge():
    """Initiatives with `backed` (an approved council backing) and their group and area loaded (not their search
    document, which only the database reads)."""
    approved = Backing.objects.filter(initiative=OuterRef("pk"), status=Backing.Status.APPROVED)
    return (
        Initiative.objects.select_related("group", "neighbourhood__council")
        .defer("search_document")
        .annotate(backed=Exists(approved))
    )


def active_memberships_for(initiative: Initiative, user_ref) -> QuerySet[Membership]:
    """Active memberships that let `user_ref` (a user or an OuterRef) take part in `initiative`: of its group, or for a
    neighbourhood-wide initiative, of any street group in its neighbourhood."""
    members = Membership.objects.filter(user=user_ref, status=Membership.Status.ACTIVE)
    if initiative.group_id is not None:
        return members.filter(group_id=initiative.group_id)
    return members.filter(group__neighbourhood_id=initiative.neighbourhood_id)


def organiser_roles(initiative: Initiative) -> QuerySet[InitiativeRole]:
    """The roles that carry organiser rights: the lead and accepted co-organisers who are still members where the
    initiative lives. Someone who left, was removed or was banned keeps no organiser rights, and hears nothing more
    as an organiser. The one rule for both `is_organiser` and `organisers`."""
    return InitiativeRole.objects.filter(
        initiative=initiative,
        status=InitiativeRole.Status.ACTIVE,
        role__in=[InitiativeRole.Role.LEAD, InitiativeRole.Role.CO_ORGANISER],
    ).filter(Exists(active_memberships_for(initiative, OuterRef("user"))))


def is_organiser(user, initiative: Initiative) -> bool:
    """The lead or an accepted co-organiser who is still a member where the initiative lives (one query)."""
    if user is None or not user.is_authenticated:
        return False
    return organiser_roles(initiative).filter(user=user).exists()


def organisers(initiative: Initiative) -> QuerySet[User]:
    """Who hears what organisers hear (new volunteers, pledges, the council's answers): the people `is_organiser`
    says yes to, each once. Lazy; one query when evaluated."""
    return User.objects.filter(Exists(organiser_roles(initiative).filter(user=OuterRef("pk"))))


def is_neighbourhood_member(*, user, initiative: Initiative) -> bool:
    if not user.is_authenticated:
        return False
    return active_memberships_for(initiative, user).exists()


def get_initiative_context(*, viewer, slug: str) -> InitiativeContext:
    """The initiative at `slug` as `viewer` sees it (at most four queries); a 404 if they may not see it."""
    initiative = get_object_or_404(initiatives_with_badge(), slug=slug)
    role = None
    is_officer = False
    if viewer.is_authenticated:
        role = (
            InitiativeRole.objects.filter(initiative=initiative, user=viewer)
            .exclude(status__in=[InitiativeRole.Status.DECLINED, InitiativeRole.Status.LEFT])
            .first()
        )
        is_officer = CouncilMembership.objects.filter(
            user=viewer, council_id=initiative.neighbourhood.council_id
        ).exists()
    context = InitiativeContext(
        initiative=initiative,
        role=role,
        is_member=is_neighbourhood_member(user=viewer, initiative=initiative),
        is_officer=is_officer,
    )
    if not permissions.can_view(context):
        raise Http404
    return context
