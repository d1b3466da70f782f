"""The Celery application.

Settings come from Django's settings under the ``CELERY_`` namespace (see ``config/settings.py``); tasks are
discovered in every installed app's ``tasks.py``. ``DjangoTask`` gives every task ``delay_on_commit()``.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stronger_streets", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def load_url_patterns(**kwargs) -> None:
    """Import the URLconf (and so every view module) once in the worker's main process, before its pool forks:
    tasks build and read links (`reverse`, `resolve`), and otherwise every child process would import them all
    again on its first task."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loading it is the point


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """What Django does around each request, around each task: with `CELERY_DB_REUSE_MAX` set, Celery keeps the
    worker's database connection open between tasks, so a connection that broke (a database restart) or outlived
    `CONN_MAX_AGE` is closed here, and the next query opens a fresh one after a health check. A task run in-process
    (eagerly) shares its caller's connection and transaction, so it is left alone."""
    from django.db import close_old_connections

    if task is None or getattr(task.request, "is_eager", False):
        return

    close_old_connections()
