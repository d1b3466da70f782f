from collections.abc import Iterable

from accounts.models import User

from .models import Notification


def record(
    *,
    event: str,
    category: str,
    subject,
    recipients: Iterable[User],
    context: dict | None = None,
    url: str = "",
) -> int:
    """Write one notification per recipient, inside the caller's transaction (so a rollback takes them too).

    The key `event:subject:recipient` makes recording the same thing twice harmless. Returns how many rows were
    offered for writing (conflicts with existing keys are skipped silently).
    """
    rows = [
        Notification(
            recipient=recipient,
            event=event,
            category=category,
            dedupe_key=f"{event}:{subject.pk}:{recipient.pk}",
            context=context or {},
            url=url,
        )
        for recipient in {r.pk: r for r in recipients}.values()
    ]
    Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)
