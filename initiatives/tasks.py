from celery import shared_task

from .services import decisions


@shared_task
def close_due_decisions() -> int:
    return decisions.close_due_decisions()
