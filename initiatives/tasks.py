from celery import shared_task

from .services import decisions


@shared_task
def close_due_decisions() -> int:
    return decisions.close_due_decisions()


@shared_task
def remind_closing_decisions() -> int:
    return decisions.remind_closing_decisions()
