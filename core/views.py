from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import services as account_services
from core import health
from core.i18n import set_language_cookie
from neighbourhoods.forms import PostcodeForm


@login_not_required
@require_GET
def home(request):
    return render(request, "core/home.html", {"postcode_form": PostcodeForm()})


@login_not_required
@require_GET
def privacy(request):
    return render(request, "core/privacy.html")


@login_not_required
@require_GET
def accessibility(request):
    return render(request, "core/accessibility.html")


@login_not_required
@require_POST
def set_language(request):
    """Switch the interface language; a signed-in person's choice is kept on their profile too."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("core:home")
    response = HttpResponseRedirect(next_url)
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        if request.user.is_authenticated:
            account_services.set_preferred_language(user=request.user, language=language)
        set_language_cookie(response, language)
    return response


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """The state of the database, cache and broker as JSON: 200 when all are reachable, 503 when one is not."""
    healthy, checks = health.run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
