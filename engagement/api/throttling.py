from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token, counted in the shared cache (Redis), at `ENGAGEMENT_API_RATE` (e.g. "120/min").

    Over the limit, DRF answers 429 with a Retry-After header. The rate is read on every request, not fixed when the
    class is imported, so settings changes take effect."""

    scope = "api_token"

    def get_rate(self) -> str:
        return settings.ENGAGEMENT_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None  # the schema and docs pages: no token, no limit here
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
