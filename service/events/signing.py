"""Webhook signatures.

Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
`webhook-signature` = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry per live secret. A `whsec_`
secret's key is its base64 part decoded; a plain secret from before v1.1 keys the HMAC with its UTF-8 bytes,
which a receiver's Standard Webhooks library reads as `whsec_` + base64 of those bytes (`as_standard`).

The deprecated `X-Peer-Match-Signature: sha256=<hex HMAC of the body>` is still sent for one release.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import standardwebhooks

PREFIX = "whsec_"
LEGACY_HEADER = "X-Peer-Match-Signature"


def new_secret() -> str:
    """A fresh `whsec_` secret of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        return secret.encode()
    try:
        encoded = secret.removeprefix(PREFIX)
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:  # refused at the API; only a hand-edited row can get here
        raise ValueError("a whsec_ secret must be base64") from exc


def as_standard(secret: str) -> str:
    """The secret as a receiver's Standard Webhooks library takes it: a plain one becomes `whsec_<base64>`."""
    return secret if secret.startswith(PREFIX) else PREFIX + base64.b64encode(secret.encode()).decode()


def headers(*, message_id: str, sent_at: datetime, raw_body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The Standard Webhooks headers, signed with every live secret (the newest first)."""
    timestamp = datetime.fromtimestamp(int(sent_at.timestamp()), tz=UTC)
    text = raw_body.decode()
    signatures = [standardwebhooks.Webhook(key(secret)).sign(message_id, timestamp, text) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def signature(secret: str, raw_body: bytes) -> str:
    """The deprecated header's value: it covers the body only, so a captured delivery never expires."""
    return "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(secret: str, raw_body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, raw_body), header)
