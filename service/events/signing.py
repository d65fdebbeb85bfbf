"""Webhook signatures: HMAC-SHA256 over the raw body, hex, as `sha256=<hex>`."""

import hashlib
import hmac


def signature(secret: str, raw_body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(secret: str, raw_body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, raw_body), header)
