"""One-click unsubscribe (RFC 8058): a signed link per person and category, and the headers that carry it."""

import hashlib
import hmac
import json
import time
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse
from django.utils.encoding import force_bytes

from accounts.models import User

SALT = "notifications.unsubscribe"
# What a digest's link stands for instead of a category: the whole daily or weekly email.
DIGEST_PREFIX = "digest:"


def digest_token_category(period: str) -> str:
    return f"{DIGEST_PREFIX}{period}"


def make_token(user: User, category: str) -> str:
    """The token for one link: what `signing.dumps({"u": …, "c": …}, salt=SALT)` makes (see `TokenMaker`)."""
    return TokenMaker().token(user.pk, category)


class TokenMaker:
    """Makes the tokens `make_token` makes, for a batch of emails: the signing key is derived once for the batch
    instead of once per token, which is most of what `signing.dumps` spends on a payload this small.

    Each token is what `signing.dumps(payload, salt=SALT)` returns at that second: the JSON payload in URL-safe
    base64, the time in base 62, and the HMAC of both under the key Django derives from the salt and SECRET_KEY
    (`salted_hmac`), so `read_token` reads it like any other."""

    def __init__(self):
        signer = signing.TimestampSigner(salt=SALT)
        self._sep = signer.sep
        self._hasher = getattr(hashlib, signer.algorithm)
        self._key = self._hasher(force_bytes(signer.salt + "signer") + force_bytes(signer.key)).digest()
        self._prefix = _address_before_token()
        self._categories: dict[str, str] = {}  # each category as JSON
        self._second = self._timestamp = None

    def token(self, user_id: int, category: str) -> str:
        quoted = self._categories.get(category)
        if quoted is None:
            quoted = self._categories[category] = json.dumps(category)
        # What `json.dumps({"u": user_id, "c": category}, separators=(",", ":"))` writes.
        payload = f'{{"u":{int(user_id)},"c":{quoted}}}'.encode("latin-1")
        second = int(time.time())
        if second != self._second:
            self._second, self._timestamp = second, signing.b62_encode(second)
        value = f"{signing.b64_encode(payload).decode()}{self._sep}{self._timestamp}".encode()
        signature = hmac.new(self._key, value, self._hasher).digest()
        return f"{value.decode()}{self._sep}{signing.b64_encode(signature).decode()}"

    def url(self, user_id: int, category: str) -> str:
        """The same address as `unsubscribe_url`."""
        return f"{self._prefix}{self.token(user_id, category)}/"


def read_token(token: str) -> tuple[int, str]:
    """The user id and category a token stands for. Raises `signing.BadSignature` if it was altered."""
    data = signing.loads(token, salt=SALT)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("c"), str):
        raise signing.BadSignature("Malformed unsubscribe token")
    return data["u"], data["c"]


def unsubscribe_url(user: User, category: str) -> str:
    return TokenMaker().url(user.pk, category)


@lru_cache(maxsize=4)
def _prefix(site_url: str, script_prefix: str) -> str:
    return site_url + reverse("notifications:unsubscribe", args=["-"])[:-2]


def _address_before_token() -> str:
    """Where every unsubscribe link starts (one `reverse` per site address, not one per email)."""
    return _prefix(settings.SITE_URL, get_script_prefix())


def headers_for(user: User, category: str) -> dict[str, str]:
    """The headers every non-transactional email carries, so mail apps offer a one-click unsubscribe."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user, category)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
