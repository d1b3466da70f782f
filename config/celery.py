"""The Celery application.

Settings come from Django's settings under the ``CELERY_`` namespace (see ``config/settings.py``); tasks are
discovered in every installed app's ``tasks.py``. ``DjangoTask`` gives every task ``delay_on_commit()``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stronger_streets", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
