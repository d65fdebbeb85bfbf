"""Valid request bodies with overrides, so each test states only what it is about."""

from datetime import date, timedelta
from typing import Any


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def referral_body(n: int = 1, **overrides: Any) -> dict[str, Any]:
    today = date.today()
    base = {
        "external_id": f"REF-{n:04d}",
        "referrer": {"organisation": "NHS Lothian Health Visiting", "role": "health_visitor"},
        "parent": {
            "name": "Agnieszka Nowak",
            "role": "mother",
            "phone": "07700 900123",
            "postcode": "EH6 6QQ",
            "baby_birth_date": (today - timedelta(days=90)).isoformat(),
        },
        "languages": ["pl", "en"],
        "formats": ["home_visit", "telephone"],
        "availability": [
            {"day": "tue", "start": "10:00", "end": "12:30"},
            {"day": "thu", "start": "13:00", "end": "15:00"},
        ],
        "background": ["first_time_parent"],
        "experiences": ["postnatal_depression"],
        "interests": ["walking"],
        "consent": {"share_with_volunteer": True, "contact": True, "given_on": today.isoformat()},
    }
    return _merge(base, overrides)


def volunteer_body(**overrides: Any) -> dict[str, Any]:
    today = date.today()
    base = {
        "name": "Joanna Kowalska",
        "email": "joanna@example.org",
        "phone": "07700 900456",
        "gender": "female",
        "languages": ["pl", "en"],
        "formats": ["home_visit", "telephone"],
        "postcode": "EH7 5QY",
        "max_travel_km": 10,
        "availability": [{"day": "tue", "start": "09:30", "end": "13:00"}],
        "background": ["first_time_parent"],
        "experiences": ["postnatal_depression"],
        "interests": ["walking"],
        "specialisms": [],
        "capacity": {"max_parents": 2, "max_sessions_per_week": 2},
        "training_completed_on": (today - timedelta(days=200)).isoformat(),
        "check": {
            "scheme": "PVG",
            "checked_on": (today - timedelta(days=300)).isoformat(),
            "expires_on": (today + timedelta(days=1500)).isoformat(),
        },
        "last_supervision_on": (today - timedelta(days=10)).isoformat(),
    }
    return _merge(base, overrides)


def patch_current(client: Any, url: str, *, json: Any, headers: dict[str, str] | None = None) -> Any:
    """PATCH as a careful client does: read the record's ETag first and send it back as If-Match (a PATCH without
    one is 428). A read that fails leaves the header out, so the PATCH meets the same refusal."""
    sent = dict(headers or {})
    if not any(name.lower() == "if-match" for name in sent):
        read = client.get(url, headers=sent)
        if read.status_code == 200 and "etag" in read.headers:
            sent["If-Match"] = read.headers["etag"]
    return client.patch(url, json=json, headers=sent)
