"""Support: members say "I back this", with an optional note, and can take it back.

Each person supports an initiative at most once (`support_once_per_person`). `support_count` is recounted under the
initiative's row lock whenever a support is added or withdrawn, so simultaneous clicks queue up behind each other
and the count always equals the number of rows; thresholds such as council offers' "once 10 neighbours support it"
read that count.

Supporting is open while the initiative is still going somewhere: an idea, in planning, active or paused. Once it is
completed or archived its support is a record of what happened, so no new support is taken. Withdrawing is always
possible: people can take their name off anything, whatever state it is in.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError

from ..models import Initiative, Support
from .initiatives import lock, may_participate

CLOSED_TO_SUPPORT = {Initiative.Status.COMPLETED, Initiative.Status.ARCHIVED}
NOTE_LENGTH = 280


def is_open_to_support(initiative: Initiative) -> bool:
    return initiative.status not in CLOSED_TO_SUPPORT


def _recount(initiative: Initiative) -> None:
    count = Support.objects.filter(initiative=initiative).count()
    # A queryset update: neither `version` nor `updated_at` moves, so supporting never makes an organiser's edit
    # look stale.
    Initiative.objects.filter(pk=initiative.pk).update(support_count=count)
    initiative.support_count = count


@transaction.atomic
def support(*, supporter: User, initiative: Initiative, note: str = "") -> Support:
    """Back the initiative, with an optional note. Members who may take part may, while it is open to support.

    Supporting again changes the note: there is still one support per person.
    """
    initiative = lock(initiative)
    if not supporter.is_authenticated or not may_participate(supporter, initiative):
        raise DomainError(_("Only members of the group can support this initiative. Join the group first."))
    if not is_open_to_support(initiative):
        raise DomainError(
            _("This initiative is “%(status)s”, so it is no longer taking support.")
            % {"status": initiative.get_status_display()}
        )
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise DomainError(_("Keep your note to %(limit)s characters.") % {"limit": NOTE_LENGTH})
    existing = Support.objects.filter(initiative=initiative, user=supporter).first()
    if existing is not None:
        if existing.note != note:
            existing.note = note
            existing.save(update_fields=["note"])
        return existing
    created = Support.objects.create(initiative=initiative, user=supporter, note=note)
    _recount(initiative)
    return created


@transaction.atomic
def withdraw_support(*, supporter: User, initiative: Initiative) -> Initiative:
    """Take back one's support. Returns the initiative with its new count."""
    if not supporter.is_authenticated:
        raise DomainError(_("You are not supporting this initiative."))
    initiative = lock(initiative)
    deleted, _rows = Support.objects.filter(initiative=initiative, user=supporter).delete()
    if not deleted:
        raise DomainError(_("You are not supporting this initiative."))
    _recount(initiative)
    return initiative
