"""Notification settings, one-click unsubscribe (RFC 8058) and the bounce webhook."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError
from core.i18n import set_language_cookie

from .. import preferences as services
from ..forms import PreferencesForm
from ..models import Category, Frequency
from ..unsubscribe import DIGEST_PREFIX, read_token


@require_http_methods(["GET", "POST"])
def preferences(request):
    """A person chooses how they hear about each kind of notification, and when and in which language."""
    user = request.user
    delivery = services.delivery_settings_for(user)
    profile = getattr(user, "profile", None)
    language = profile.language if profile is not None else settings.LANGUAGE_CODE
    initial = PreferencesForm.initial_for(
        frequencies=services.frequencies_of(user), delivery=delivery, language=language
    )
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_preferences(
                user=user,
                frequencies=form.frequencies(),
                paused=data["paused"],
                digest_hour=data["digest_hour"],
                digest_weekday=data["digest_weekday"],
                language=data["language"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            translation.activate(data["language"])
            messages.success(request, _("Your notification settings have been saved."))
            response = redirect("notifications:preferences")
            set_language_cookie(response, data["language"])
            return response
    return render(request, "notifications/preferences.html", {"form": form, "delivery": delivery})


@require_POST
def resume_emails(request):
    """The person confirms their address is right after a bounce: notification emails start again.

    If the address still bounces, the next bounce stops them again.
    """
    if services.clear_bounce(request.user):
        messages.success(
            request,
            _("Thank you. We will send notification emails to %(email)s again.") % {"email": request.user.email},
        )
    return redirect("notifications:preferences")


def _invalid_link(request):
    return render(request, "notifications/unsubscribe_invalid.html", status=400)


# A mail app's one-click unsubscribe (RFC 8058) is a POST with no cookies and no CSRF token: the signed token in the
# address is the only credential, and it only ever turns one category's emails off.
@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET asks for confirmation and changes nothing (link scanners follow links); POST unsubscribes at once."""
    try:
        user_id, category = read_token(token)
    except signing.BadSignature:
        return _invalid_link(request)
    period = category.removeprefix(DIGEST_PREFIX) if category.startswith(DIGEST_PREFIX) else None
    if period is not None:
        if period not in (Frequency.DAILY, Frequency.WEEKLY):
            return _invalid_link(request)
        context = {"period": period, "token": token}
    elif category in Category.values:
        context = {"category_label": Category(category).label, "token": token}
    else:
        return _invalid_link(request)
    if request.method == "GET":
        return render(request, "notifications/unsubscribe_confirm.html", context)
    done = services.unsubscribe_digest(user_id, period) if period else services.unsubscribe(user_id, category)
    if not done:
        return _invalid_link(request)
    return render(request, "notifications/unsubscribe_done.html", context)


def _webhook_answer(status: int, **body) -> JsonResponse:
    return JsonResponse(body, status=status)


@login_not_required
@csrf_exempt
@never_cache
def bounce_webhook(request):
    """A mail provider reports a bounce: `{"email": ..., "type": "hard" | "soft", "reason": ...}`.

    Authenticated by the shared secret in `X-Bounce-Secret`. Only hard bounces are stored; soft ones (a full mailbox,
    a server briefly down) usually clear on their own. Without a configured secret the endpoint does not exist.
    """
    secret = settings.BOUNCE_WEBHOOK_SECRET
    if not secret:
        raise Http404
    if request.method != "POST":
        return _webhook_answer(405, error="Use POST.")
    if not constant_time_compare(request.headers.get("X-Bounce-Secret", ""), secret):
        return _webhook_answer(403, error="Missing or wrong X-Bounce-Secret header.")
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep to read
        return _webhook_answer(400, error="The body must be JSON.")
    if not isinstance(payload, dict):
        return _webhook_answer(400, error="The body must be a JSON object.")
    email, kind, reason = payload.get("email"), payload.get("type"), payload.get("reason", "")
    if not _storable(email) or not email.strip() or "\x00" in email:
        return _webhook_answer(400, error="“email” must be an email address.")
    if kind not in ("hard", "soft"):
        return _webhook_answer(400, error="“type” must be “hard” or “soft”.")
    if reason is None:
        reason = ""
    if not _storable(reason):
        return _webhook_answer(400, error="“reason” must be text.")
    if kind == "soft":
        return _webhook_answer(202, recorded=False, detail="Soft bounces are not stored.")
    if services.record_bounce(email, reason) is None:
        return _webhook_answer(202, recorded=False, detail="No account has that address.")
    return _webhook_answer(202, recorded=True)


def _storable(value) -> bool:
    """Text that can be stored: JSON may carry a lone surrogate ("\\ud800"), which is not valid UTF-8."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


urlpatterns = [
    path("notifications/preferences/", preferences, name="preferences"),
    path("notifications/preferences/resume-emails/", resume_emails, name="resume-emails"),
    path("notifications/bounces/", bounce_webhook, name="bounce-webhook"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
