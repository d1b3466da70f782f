"""Who may see a council's engagement pages and officer tools: the one check every council page makes.

An officer or council admin of *this* council (a `CouncilMembership`) gets in; anyone else signed in gets a 404, the
same as for a council that does not exist, so the pages never confirm which councils someone is not part of. Staff
are not officers unless given a membership. Officers must use two-step sign-in: an officer without it reaches a page
that says why and how to turn it on (`OfficerMFARequired`, turned into that page by `OfficerMFAMiddleware`), never
any of the council's figures. Visitors are sent to sign in by `LoginRequiredMiddleware` before any of this runs.
"""

from dataclasses import dataclass

from allauth.mfa.utils import is_mfa_enabled
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from neighbourhoods.models import Council, CouncilMembership


@dataclass(frozen=True)
class OfficerAccess:
    council: Council
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == CouncilMembership.Role.ADMIN


class OfficerMFARequired(Exception):
    """An officer of `council` reached one of its pages without two-step sign-in turned on."""

    def __init__(self, council: Council) -> None:
        super().__init__(council.slug)
        self.council = council


def get_officer_access(user, council_slug: str) -> OfficerAccess:
    """The signed-in `user`'s access to the council at `council_slug` (two queries).

    Raises Http404 unless they are an officer or admin of that council, and `OfficerMFARequired` unless they have
    two-step sign-in turned on."""
    if user is None or not user.is_authenticated:
        raise Http404
    membership = (
        CouncilMembership.objects.select_related("council").filter(user=user, council__slug=council_slug).first()
    )
    if membership is None:
        raise Http404(_("No such council."))
    if not is_mfa_enabled(user):
        raise OfficerMFARequired(membership.council)
    return OfficerAccess(council=membership.council, role=membership.role)


class OfficerMFAMiddleware:
    """Shows officers without two-step sign-in why they cannot see their council's pages yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OfficerMFARequired):
            return render(request, "engagement/mfa_required.html", {"council": exception.council}, status=403)
        return None
