"""A council's team: council admins invite officers by email, revoke invitations and remove officers; an invited
person accepts through a signed link while signed in with the invited, verified address.

Rules:
- Only an admin of the council invites, revokes or removes. A council always keeps at least one admin: the last one
  cannot be removed (the admins' rows are locked while counting, so two admins removing each other cannot both win).
- One open invitation per address per council: inviting again replaces the old one (its link stops working).
- An invitation is accepted once, before it expires, by a signed-in person whose verified email is the one invited.
- The email goes out once the invitation is committed (a task), in the recipient's language if they already have an
  account, otherwise in the site's.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail, signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError
from neighbourhoods.models import Council, CouncilMembership

from ..models import OfficerInvite

SIGNING_SALT = "engagement.officer-invite"


def _require_admin(user: User, council: Council) -> None:
    if not CouncilMembership.objects.filter(user=user, council=council, role=CouncilMembership.Role.ADMIN).exists():
        raise DomainError(_("Only the council's admins can change its team."))


def _normalise(email: str) -> str:
    return (email or "").strip().lower()


# --- Signed links ----------------------------------------------------------------------------------------------------


def _signer() -> signing.Signer:
    return signing.Signer(salt=SIGNING_SALT)


def invite_link_token(invite: OfficerInvite) -> str:
    """The signed part of an invitation's link. It carries no timestamp (the invitation keeps its own expiry), so the
    same invitation always has the same link: a resent email and the one before it agree."""
    return _signer().sign_object({"invite": invite.pk, "token": invite.token}, compress=True)


def invite_url(invite: OfficerInvite) -> str:
    return f"{settings.SITE_URL}{reverse('engagement:invite-accept', args=[invite_link_token(invite)])}"


def invite_from_link(signed: str) -> OfficerInvite | None:
    """The invitation a link names, or None if the link was altered or names none."""
    try:
        data = _signer().unsign_object(signed)
    except (signing.BadSignature, ValueError):
        try:  # a link emailed before links lost their timestamp
            data = signing.loads(signed, salt=SIGNING_SALT)
        except (signing.BadSignature, ValueError):
            return None
    if not isinstance(data, dict):
        return None
    return (
        OfficerInvite.objects.select_related("council")
        .filter(pk=data.get("invite"), token=str(data.get("token", "")))
        .first()
    )


# --- Actions -------------------------------------------------------------------------------------------------------


@transaction.atomic
def invite_officer(*, admin: User, council: Council, email: str, role: str) -> OfficerInvite:
    """Invite `email` to join `council`'s team as `role`, replacing any open invitation to that address, and email
    them the link once committed."""
    from ..tasks import send_officer_invite

    _require_admin(admin, council)
    email = _normalise(email)
    if role not in CouncilMembership.Role.values:
        raise DomainError(_("Choose whether they will be an officer or a council admin."))
    if CouncilMembership.objects.filter(council=council, user__email__iexact=email).exists():
        raise DomainError(_("%(email)s is already on the team.") % {"email": email})
    now = timezone.now()
    OfficerInvite.objects.filter(
        council=council, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now, updated_at=now)
    invite = OfficerInvite.objects.create(
        council=council,
        email=email,
        role=role,
        invited_by=admin,
        expires_at=now + timedelta(days=settings.ENGAGEMENT_INVITE_DAYS),
    )
    send_officer_invite.delay_on_commit(invite.pk)
    return invite


def send_officer_invite(*, invite_id: int) -> bool:
    """Email an invitation that is still open (HTML and text). Returns whether an email was sent."""
    invite = OfficerInvite.objects.select_related("council", "invited_by__profile").filter(pk=invite_id).first()
    if invite is None or not invite.is_open:
        return False
    known = User.objects.select_related("profile").filter(email__iexact=invite.email).first()
    profile = getattr(known, "profile", None) if known else None
    language = profile.language if profile is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "council": invite.council.name,
            "role": _("a council admin") if invite.role == CouncilMembership.Role.ADMIN else _("an officer"),
            "link": invite_url(invite),
            "expires": invite.expires_at,
            "inviter": invite.invited_by.profile.display_name
            if invite.invited_by and hasattr(invite.invited_by, "profile")
            else "",
        }
        subject = " ".join(render_to_string("engagement/emails/invite.subject.txt", context).split())
        context["subject"] = subject
        text = render_to_string("engagement/emails/invite.txt", context)
        html = render_to_string("engagement/emails/invite.html", context)
    message = mail.EmailMultiAlternatives(subject=subject, body=text, to=[invite.email])
    message.attach_alternative(html, "text/html")
    message.send()
    return True


def invite_problem(invite: OfficerInvite) -> str | None:
    """Why `invite` can no longer be accepted by anyone, in words for the person holding the link; None if it can."""
    if invite.accepted_at is not None:
        return _("This invitation has already been used.")
    if invite.revoked_at is not None:
        return _("This invitation was withdrawn. Ask the council's admin to invite you again.")
    if invite.expires_at <= timezone.now():
        return _("This invitation has expired. Ask the council's admin to invite you again.")
    return None


def why_cannot_accept(*, user: User, invite: OfficerInvite) -> str | None:
    """Why `user` cannot accept `invite` right now, in words for them; None if they can."""
    problem = invite_problem(invite)
    if problem:
        return problem
    if not EmailAddress.objects.filter(user=user, email__iexact=invite.email, verified=True).exists():
        return _(
            "This invitation is for %(email)s. Sign in with that address (and confirm it if we asked you to) to "
            "accept it."
        ) % {"email": invite.email}
    return None


@transaction.atomic
def accept_invite(*, user: User, invite: OfficerInvite) -> CouncilMembership:
    """Join the council's team as invited. The invitation's row is locked, so it is used once."""
    invite = OfficerInvite.objects.select_for_update().select_related("council").get(pk=invite.pk)
    reason = why_cannot_accept(user=user, invite=invite)
    if reason:
        raise DomainError(reason)
    # Someone already on the team (added meanwhile) keeps the role they have.
    membership, _created = CouncilMembership.objects.get_or_create(
        council=invite.council, user=user, defaults={"role": invite.role}
    )
    invite.accepted_at = timezone.now()
    invite.accepted_by = user
    invite.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


@transaction.atomic
def revoke_invite(*, admin: User, invite: OfficerInvite) -> OfficerInvite:
    """Withdraw an invitation that has not been accepted: its link stops working."""
    _require_admin(admin, invite.council)
    invite = OfficerInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.accepted_at is not None:
        raise DomainError(_("That invitation has already been accepted: remove the officer instead."))
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at", "updated_at"])
    return invite


@transaction.atomic
def remove_officer(*, admin: User, membership: CouncilMembership) -> None:
    """Take someone off the council's team. The last admin stays: a council always has someone to manage it."""
    _require_admin(admin, membership.council)
    admins = list(
        CouncilMembership.objects.select_for_update()
        .filter(council=membership.council, role=CouncilMembership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if membership.role == CouncilMembership.Role.ADMIN and admins == [membership.pk]:
        raise DomainError(_("A council needs at least one admin: invite another admin first."))
    CouncilMembership.objects.filter(pk=membership.pk).delete()
