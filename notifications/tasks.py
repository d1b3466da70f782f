"""Celery entry points for notifications, defined beside the services they run."""

from .delivery_tasks import *  # noqa: F403
from .digest_tasks import *  # noqa: F403
