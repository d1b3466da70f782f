"""Blocking: one person keeps another away from them, quietly.

What a block does, both ways, whoever made it: no waves between the two (pending ones are taken back), no
connection (an existing one ends), neither appears in the other's directory or suggestions, and neither hears about
what the other does: notifications naming the other as their actor are not recorded, and older ones stay out of the
bell, immediate emails and digests while the block lasts. The person blocked is never told.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError
from neighbourhoods.models import Connection
from neighbourhoods.services.neighbours import pair, remove_connection, withdraw_open_waves_between
from notifications.services import forget_unread_counts

from .models import Block


def _lock_pair(a: User, b: User) -> None:
    # Waves are sent under the sender's row lock. Taking both rows (in id order, so two blocks between the same two
    # people queue rather than deadlock) means a wave sent at the same moment either commits first, and is taken
    # back below, or waits and then finds the block.
    list(User.objects.select_for_update().filter(pk__in=pair(a.pk, b.pk)).order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def block(*, blocker: User, blocked: User) -> Block:
    """`blocker` blocks `blocked`. Blocking someone already blocked changes nothing and returns the same block.

    Guarantees: nobody can block themselves; any wave between the two still waiting for an answer is taken back;
    a connection between them ends (through `remove_connection`, like one either of them removed); both people's
    cached unread counts are forgotten, since notifications from the other no longer count. No one is notified.
    """
    if blocker.pk == blocked.pk:
        raise DomainError(_("You cannot block yourself."))
    _lock_pair(blocker, blocked)
    made, _created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    withdraw_open_waves_between(blocker, blocked)
    low, high = pair(blocker.pk, blocked.pk)
    connection = Connection.objects.filter(user_low_id=low, user_high_id=high).first()
    if connection is not None:
        remove_connection(user=blocker, connection=connection)
    forget_unread_counts([blocker.pk, blocked.pk])
    return made


@transaction.atomic
def unblock(*, blocker: User, blocked: User) -> bool:
    """`blocker` lifts their block on `blocked`. Returns False if there was none (nothing changes then).

    From now on each hears about the other again (unless `blocked` has blocked `blocker` too). Emails the block
    kept back are not sent late; the bell shows those notifications again. Waves and connections the block took
    away do not come back.
    """
    deleted, _by_model = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    if deleted:
        forget_unread_counts([blocker.pk, blocked.pk])
    return bool(deleted)
