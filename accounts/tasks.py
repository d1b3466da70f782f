from celery import shared_task

from . import services


@shared_task
def purge_unverified_accounts() -> int:
    return services.purge_unverified_accounts()
