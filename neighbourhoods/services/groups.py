from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError

from ..models import Group, Membership, Neighbourhood, Postcode

# Addresses under /groups/ that pages already use.
RESERVED_SLUGS = {"new"}


def _unique_slug(name: str, neighbourhood: Neighbourhood) -> str:
    base = slugify(name)[:100] or "group"
    taken = set(Group.objects.filter(slug__startswith=base).values_list("slug", flat=True)) | RESERVED_SLUGS
    for candidate in [base, f"{base}-{slugify(neighbourhood.name)[:30]}", *(f"{base}-{n}" for n in range(2, 1000))]:
        if candidate not in taken:
            return candidate
    raise DomainError(_("Choose a different name for the group."))


@transaction.atomic
def create_group(
    *,
    founder: User,
    neighbourhood: Neighbourhood,
    name: str,
    postcodes: list[Postcode],
    about: str = "",
    streets: str = "",
    join_policy: str = Group.JoinPolicy.APPROVAL,
    visibility: str = Group.Visibility.PUBLIC,
    unverified_can_post: bool = True,
    events_by: str = Group.EventsBy.MEMBERS,
) -> Group:
    """Start a street group in `neighbourhood`; the founder becomes its first organiser, verified.

    Only someone with a verified email may start one, and names are unique within a neighbourhood.
    """
    if not EmailAddress.objects.filter(user=founder, verified=True).exists():
        raise DomainError(_("Confirm your email address before starting a group."))
    name = name.strip()
    if Group.objects.filter(neighbourhood=neighbourhood, name__iexact=name).exists():
        raise DomainError(
            _("There is already a group called “%(name)s” in %(area)s.") % {"name": name, "area": neighbourhood.name}
        )
    if any(p.neighbourhood_id != neighbourhood.pk for p in postcodes):
        raise DomainError(_("Every postcode must be in %(area)s.") % {"area": neighbourhood.name})
    try:
        with transaction.atomic():
            group = Group.objects.create(
                neighbourhood=neighbourhood,
                name=name,
                slug=_unique_slug(name, neighbourhood),
                about=about.strip(),
                streets=streets.strip(),
                join_policy=join_policy,
                visibility=visibility,
                unverified_can_post=unverified_can_post,
                events_by=events_by,
                created_by=founder,
            )
    except IntegrityError as exc:  # a neighbour started the same group a moment ago
        raise DomainError(
            _("There is already a group called “%(name)s” in %(area)s.") % {"name": name, "area": neighbourhood.name}
        ) from exc
    group.postcodes.set(postcodes)
    now = timezone.now()
    Membership.objects.create(
        group=group,
        user=founder,
        role=Membership.Role.ORGANISER,
        status=Membership.Status.ACTIVE,
        joined_at=now,
        verified_at=now,
        verified_by=Membership.VerifiedBy.FOUNDER,
    )
    return group


@transaction.atomic
def update_group(*, organiser: User, group: Group, postcodes: list[Postcode] | None = None, **fields) -> Group:
    """Change a group's details and settings. Only its organisers may; the name stays unique in its area."""
    if not Membership.objects.organisers().filter(group=group, user=organiser).exists():
        raise DomainError(_("Only the group's organisers can change it."))
    allowed = {"name", "about", "streets", "join_policy", "visibility", "unverified_can_post", "events_by"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Not a group setting: {sorted(unknown)}")
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        clash = Group.objects.filter(neighbourhood=group.neighbourhood, name__iexact=fields["name"]).exclude(
            pk=group.pk
        )
        if clash.exists():
            raise DomainError(
                _("There is already a group called “%(name)s” in %(area)s.")
                % {"name": fields["name"], "area": group.neighbourhood.name}
            )
    for field, value in fields.items():
        setattr(group, field, value.strip() if isinstance(value, str) else value)
    group.save()
    if postcodes is not None:
        if any(p.neighbourhood_id != group.neighbourhood_id for p in postcodes):
            raise DomainError(_("Every postcode must be in %(area)s.") % {"area": group.neighbourhood.name})
        group.postcodes.set(postcodes)
    return group
