from celery import shared_task

from .services import events


@shared_task
def send_event_reminders() -> int:
    return events.send_event_reminders()
