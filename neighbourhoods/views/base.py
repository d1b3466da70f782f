"""Glue shared by the street-group views."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest

from core.exceptions import DomainError

T = TypeVar("T")


def attempt(request: HttpRequest, action: Callable[[], T], *, success: str | None = None) -> T | None:
    """Run one action. A broken rule becomes an error message for the person, never a 500; returns None then."""
    try:
        result = action()
    except DomainError as error:
        messages.error(request, error.message)
        return None
    if success:
        messages.success(request, success)
    return result
