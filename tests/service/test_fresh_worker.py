"""A freshly started server process answers its very first request, whatever it is: production runs the API
without the in-app worker, so no other work warms the process (the ORM's mappers were configured lazily by the
first ORM query, and the referral post's fast path makes none: every post to a fresh process was a 500)."""

from pathlib import Path

import httpx
from sqlmodel import Session

from service.core import auth, migrate
from service.core.config import Settings
from service.core.db import make_engine
from tests.factories import referral_body
from tests.served import served


def test_the_first_request_to_a_fresh_process_is_a_referral_post_and_it_is_accepted(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path, database_url=""))
    migrate.upgrade(engine)
    with Session(engine) as db:
        _key, secret = auth.create_key(db, name="gp surgery", role=auth.Role.integrator, source="gp")
        db.commit()
    engine.dispose()
    with served(data_dir=tmp_path, workers=1) as url:
        answer = httpx.post(
            f"{url}/v1/referrals",
            json=referral_body(),
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "first-of-all"},
            timeout=30,
        )
    assert answer.status_code == 201, answer.text
