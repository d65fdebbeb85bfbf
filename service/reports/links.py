"""Short-lived links to the report page, for a coordinator who wants to open it in a browser (or on a phone)
without typing her API key into it.

A link is `<key id>.<expiry, Unix seconds>.<HMAC-SHA256>`, the HMAC keyed with the stored hash of the
coordinator's own API key. Nothing new is stored or configured: the hash never leaves the server, so nobody can
forge a link without the database, and revoking the key kills its links at once. A link is good for
LINK_MINUTES and only for the page (`GET /reports`), never for the API."""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from sqlmodel import Session

from api_schemas.reports import ReportLink
from service.core import clock
from service.core.auth import Principal, Role
from service.core.errors import Unauthorized
from service.reports import repository

LINK_MINUTES = 15
PAGE = "/reports"


def _signature(secret_hash: str, key_id: str, expires: int) -> str:
    mac = hmac.new(secret_hash.encode(), f"report-page.{key_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def create(db: Session, caller: Principal) -> ReportLink:
    """A link for the caller's own key, valid from now for LINK_MINUTES."""
    key = repository.api_key(db, caller.key_id)
    if key is None:  # the key authenticated this very request
        raise Unauthorized()
    expires_at = clock.now().replace(microsecond=0) + timedelta(minutes=LINK_MINUTES)
    expires = int(expires_at.timestamp())
    token = f"{caller.key_id}.{expires}.{_signature(key.secret_hash, caller.key_id, expires)}"
    return ReportLink(url=f"{PAGE}?link={token}", link=token, expires_at=expires_at)


def verify(db: Session, token: str) -> Principal:
    """The coordinator (or admin) the link was made for, while it is unexpired and her key live; 401 otherwise,
    with one message for every way a link fails, so a guess learns nothing."""
    refused = Unauthorized("The link is not valid or has expired; ask for a new one.")
    key_id, _, rest = token.partition(".")
    expires_text, _, signature = rest.partition(".")
    if not (key_id and expires_text.isdigit() and signature) or len(token) > 200:
        raise refused
    expires = int(expires_text)
    if clock.now() >= datetime.fromtimestamp(expires, clock.now().tzinfo):
        raise refused
    key = repository.api_key(db, key_id)
    if key is None or key.revoked_at is not None or key.role not in (Role.admin, Role.coordinator):
        raise refused
    if not hmac.compare_digest(signature, _signature(key.secret_hash, key_id, expires)):
        raise refused
    return Principal(key_id=key.id, role=Role(key.role))
