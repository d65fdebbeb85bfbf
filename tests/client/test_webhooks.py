"""The client's webhook checks: Standard Webhooks, and the service's legacy header as it signs today."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from peer_match_client import WebhookVerificationError, sign, verify, verify_legacy

from service.events import signing

NOW = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
OLD_SECRET = "whsec_" + base64.b64encode(b"the secret of last year, 32 b!!").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"the secret rotated in this week").decode()
BODY = json.dumps({"type": "match.confirmed", "data": {"match_id": "m-1"}}).encode()


def _delivery(secret: str = NEW_SECRET, *, at: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return sign(body, secret=secret, webhook_id="msg_2a9f", timestamp=at)


def test_a_fresh_delivery_is_accepted_and_its_payload_returned() -> None:
    assert verify(BODY, _delivery(), NEW_SECRET, now=NOW + timedelta(seconds=2)) == json.loads(BODY)


def test_headers_are_read_whatever_their_case() -> None:
    headers = {name.title(): value for name, value in _delivery().items()}
    assert verify(BODY, headers, NEW_SECRET, now=NOW)["type"] == "match.confirmed"


def test_a_tampered_body_is_rejected() -> None:
    tampered = BODY.replace(b"m-1", b"m-2")
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(tampered, _delivery(), NEW_SECRET, now=NOW)


def test_a_delivery_replayed_ten_minutes_later_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(BODY, _delivery(), NEW_SECRET, now=NOW + timedelta(minutes=10))


def test_the_real_clock_is_used_when_none_is_given() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(BODY, _delivery(at=datetime.now(UTC) - timedelta(minutes=10)), NEW_SECRET)
    assert verify(BODY, _delivery(at=datetime.now(UTC)), NEW_SECRET)["data"] == {"match_id": "m-1"}


def test_the_tolerance_can_be_widened_or_narrowed() -> None:
    assert verify(BODY, _delivery(), NEW_SECRET, now=NOW + timedelta(minutes=10), tolerance=timedelta(minutes=15))
    with pytest.raises(WebhookVerificationError):
        verify(BODY, _delivery(), NEW_SECRET, now=NOW + timedelta(seconds=40), tolerance=timedelta(seconds=30))


def test_a_timestamp_from_the_future_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="future"):
        verify(BODY, _delivery(at=NOW + timedelta(minutes=6)), NEW_SECRET, now=NOW)


def test_during_a_rotation_either_secret_verifies() -> None:
    both = [OLD_SECRET, NEW_SECRET]
    assert verify(BODY, _delivery(OLD_SECRET), both, now=NOW)
    assert verify(BODY, _delivery(NEW_SECRET), both, now=NOW)


def test_a_delivery_signed_with_both_secrets_verifies_with_either() -> None:
    headers = _delivery(OLD_SECRET)
    headers["webhook-signature"] += " " + _delivery(NEW_SECRET)["webhook-signature"]
    assert verify(BODY, headers, OLD_SECRET, now=NOW)
    assert verify(BODY, headers, NEW_SECRET, now=NOW)


def test_a_secret_not_given_does_not_verify() -> None:
    with pytest.raises(WebhookVerificationError):
        verify(BODY, _delivery(OLD_SECRET), [NEW_SECRET], now=NOW)


def test_a_missing_header_is_rejected() -> None:
    headers = _delivery()
    del headers["webhook-timestamp"]
    with pytest.raises(WebhookVerificationError, match="needed"):
        verify(BODY, headers, NEW_SECRET, now=NOW)


@given(
    body=st.binary(max_size=300).map(lambda raw: json.dumps(raw.hex()).encode()),
    position=st.integers(min_value=0),
    seconds=st.integers(min_value=0, max_value=300),
)
def test_any_body_verifies_as_signed_and_not_after_one_byte_changes(body: bytes, position: int, seconds: int) -> None:
    headers = _delivery(body=body)
    assert verify(body, headers, NEW_SECRET, now=NOW + timedelta(seconds=seconds)) == json.loads(body)
    index = position % len(body)
    changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises(WebhookVerificationError):
        verify(changed, headers, NEW_SECRET, now=NOW)


def test_the_services_current_header_verifies_with_the_legacy_check() -> None:
    header = signing.signature("plain shared secret", BODY)
    with pytest.warns(DeprecationWarning):
        assert verify_legacy(BODY, header, ["old", "plain shared secret"]) == json.loads(BODY)


def test_the_legacy_check_rejects_a_tampered_body_and_a_missing_header() -> None:
    header = signing.signature("plain shared secret", BODY)
    with pytest.warns(DeprecationWarning), pytest.raises(WebhookVerificationError):
        verify_legacy(BODY + b" ", header, "plain shared secret")
    with pytest.warns(DeprecationWarning), pytest.raises(WebhookVerificationError):
        verify_legacy(BODY, None, "plain shared secret")
