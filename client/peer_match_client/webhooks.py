"""Checking that a webhook delivery came from peer-match, unchanged and recently.

`verify` follows Standard Webhooks (https://www.standardwebhooks.com): the headers `webhook-id`,
`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several
separated by spaces while the service signs with two secrets), secrets written `whsec_<base64>`. A delivery
older (or newer) than `tolerance` is rejected, so a captured delivery cannot be replayed later.

`verify_legacy` checks the header the service sends today, `X-Peer-Match-Signature: sha256=<hex HMAC of the
body>`. It covers the body only, so a captured delivery stays valid for ever: it is deprecated and will go
once the service signs the standard way for a release.
"""

import hashlib
import hmac
import json
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import standardwebhooks

DEFAULT_TOLERANCE = timedelta(minutes=5)
LEGACY_HEADER = "X-Peer-Match-Signature"


class WebhookVerificationError(standardwebhooks.WebhookVerificationError):
    """The delivery is not to be trusted: a header missing, a timestamp outside the tolerance, or no
    signature made with any of the secrets given."""


def _secrets(secrets: str | Sequence[str]) -> list[str]:
    listed = [secrets] if isinstance(secrets, str) else list(secrets)
    if not listed:
        raise ValueError("at least one webhook secret is needed")
    return listed


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode()
    except UnicodeDecodeError as exc:
        raise WebhookVerificationError("the body is not UTF-8") from exc


def sign(body: bytes | str, *, secret: str, webhook_id: str, timestamp: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for a delivery (for a receiver's own tests, or a sender in Python)."""
    signature = standardwebhooks.Webhook(secret).sign(webhook_id, timestamp.astimezone(UTC), _text(body))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secrets: str | Sequence[str],
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> Any:
    """The delivery's JSON payload once its Standard Webhooks signature holds for one of `secrets` (give the
    old and the new secret while rotating) and its timestamp is within `tolerance` of `now`; else
    `WebhookVerificationError`. Pass the body exactly as received, before any JSON parsing."""
    text = _text(body)
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (webhook_id and stamp and signatures):
        raise WebhookVerificationError("webhook-id, webhook-timestamp and webhook-signature are all needed")
    try:
        sent_at = datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds") from exc
    age = (now or datetime.now(UTC)) - sent_at
    if age > tolerance:
        raise WebhookVerificationError(f"the delivery is too old ({int(age.total_seconds())} s)")
    if -age > tolerance:
        raise WebhookVerificationError("the delivery's timestamp is in the future")
    offered = {part.split(",", 1)[1] for part in signatures.split() if part.startswith("v1,")}
    for secret in _secrets(secrets):
        expected = standardwebhooks.Webhook(secret).sign(webhook_id, sent_at, text).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return json.loads(text)
    raise WebhookVerificationError("no signature matches any of the secrets given")


def verify_legacy(body: bytes, signature_header: str | None, secrets: str | Sequence[str]) -> Any:
    """Deprecated: the payload once `X-Peer-Match-Signature` (`sha256=<hex HMAC-SHA256 of the body>`) holds
    for one of `secrets`. It has no timestamp, so it cannot refuse a replayed delivery; prefer `verify`."""
    warnings.warn(
        "X-Peer-Match-Signature covers the body only and is deprecated; use verify() with the webhook-* headers",
        DeprecationWarning,
        stacklevel=2,
    )
    if not signature_header:
        raise WebhookVerificationError(f"{LEGACY_HEADER} is missing")
    for secret in _secrets(secrets):
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature_header.strip()):
            return json.loads(body)
    raise WebhookVerificationError(f"{LEGACY_HEADER} matches none of the secrets given")
