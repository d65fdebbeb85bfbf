"""The referral an integrator posts in the load scenario and in the CPU measurement."""

import uuid
from typing import Any

POSTCODES = ["EH6 6QQ", "G31 2ER", "AB24 3FX", "DD4 6BA", "IV2 3HH", "KY1 1XX", "PA1 1JS", "FK8 1EN"]


def referral(n: int) -> dict[str, Any]:
    return {
        "external_id": f"load-{uuid.uuid4().hex[:20]}",
        "referrer": {"organisation": "NHS Load Test Maternity", "role": "midwife"},
        "parent": {
            "name": "Load Parent",
            "role": "mother",
            "phone": "07700 900123",
            "postcode": POSTCODES[n % 8],
            "baby_birth_date": "2026-09-01",
        },
        "languages": ["en"],
        "formats": ["home_visit", "telephone"],
        "availability": [{"day": "tue", "start": "10:00", "end": "12:30"}],
        "experiences": ["postnatal_depression"],
        "background": ["first_time_parent"],
        "interests": ["walking"],
        "consent": {"share_with_volunteer": True, "contact": True, "given_on": "2026-11-20"},
    }
