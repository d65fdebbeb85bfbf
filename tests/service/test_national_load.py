"""The national-scale bench's bulk load (service/tools/national.py): the rows it writes are the ones demo.fill
writes through the use cases, so a run over them is a run over valid, realistic people."""

import subprocess
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, select
from sqlmodel import Session

from matching import solver
from service.core import clock
from service.core.auth import Principal, Role
from service.core.ids import new_id
from service.match_runs import repository as match_run_repository
from service.match_runs import service as match_run_service
from service.match_runs.service import problem_for
from service.matches import repository as match_repository
from service.matches import service as match_service
from service.models import Referral, Venue, Volunteer
from service.programme import service as programme_service
from service.tools import demo, national

# What differs by construction: new ids and times, who made them (the demo's throwaway coordinator), and the
# referral source (demo.fill's coordinator has none: "" would collide with real referrals' external ids).
VARYING = {"id", "created_at", "updated_at", "received_at", "created_by_key_id", "source"}


def _rows(db: Connection, model: Any) -> list[dict[str, Any]]:
    table = model.__table__
    found = db.execute(select(table)).mappings()
    # Ids made in the same millisecond are in random order, so rows are compared in the order of their content.
    return sorted(({k: v for k, v in row.items() if k not in VARYING} for row in found), key=repr)


def test_the_bulk_load_writes_what_demo_fill_writes(db: Connection) -> None:
    with Session(db) as session:
        national.load(session, referrals=60, volunteers=30, seed=4)
        session.commit()
    bulk = {model: _rows(db, model) for model in (Referral, Volunteer, Venue)}
    for model in (Referral, Volunteer, Venue):
        db.execute(delete(model.__table__))  # type: ignore[attr-defined]
    with Session(db) as session:
        demo.fill(session, referrals=60, volunteers=30, seed=4)
        session.commit()
    for model in (Referral, Volunteer, Venue):
        assert _rows(db, model) == bulk[model], model.__name__
    assert len(bulk[Referral]) == 60 and len(bulk[Volunteer]) == 30 and len(bulk[Venue]) == len(demo.VENUES)


def test_the_bulk_load_leaves_a_database_with_referrals_alone(db: Connection) -> None:
    with Session(db) as session:
        national.load(session, referrals=5, volunteers=5, seed=1)
        assert national.load(session, referrals=5, volunteers=5, seed=1) == {"referrals": 0, "volunteers": 0}
        session.commit()
    assert len(_rows(db, Referral)) == 5


def _solved(db: Connection) -> tuple[int, int]:
    """(matched, candidate pairs) of the problem a match run builds from the rows now, solved."""
    with Session(db) as session:
        settings = programme_service.current(session)
        problem = problem_for(session, match_run_repository.waiting_referrals(session, None), settings=settings)
    stats = solver.solve(problem).stats
    return stats.matched, stats.candidate_pairs


def test_a_match_run_over_the_national_set_matches_as_many_as_over_the_demo_s(db: Connection) -> None:
    with Session(db) as session:
        national.load(session, referrals=200, volunteers=100, seed=7)
        session.commit()
    bulk = _solved(db)
    for model in (Referral, Volunteer, Venue):
        db.execute(delete(model.__table__))  # type: ignore[attr-defined]
    with Session(db) as session:
        demo.fill(session, referrals=200, volunteers=100, seed=7)
        session.commit()
    matched, pairs = _solved(db)
    assert bulk == (matched, pairs)
    assert matched > 50 and pairs > matched


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=300))
def test_percentile_is_a_value_at_or_above_that_share_of_them(values: list[float]) -> None:
    for share in (0.5, 0.99, 1.0):
        found = national.percentile(values, share)
        assert found in values
        assert sum(v <= found for v in values) >= share * len(values)
        assert sum(v < found for v in values) < share * len(values) or share == 0


def test_the_national_bench_refuses_sqlite(tmp_path: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service.tools.bench", "--national"],
        env={"PEER_MATCH_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "--national needs PostgreSQL" in done.stderr
    assert not (tmp_path / "x.sqlite3").exists()


def test_load_diary_and_exclusions_read_for_many_ids_answer_as_for_few(
    db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A national run asks for 10,000-20,000 ids at once: above a size the queries read everything and filter in
    # Python rather than send an IN list. Both ways must answer the same, for all ids and for a subset.
    actor = Principal(key_id=new_id(), role=Role.coordinator)
    with Session(db) as session:
        demo.fill(session, referrals=30, volunteers=15, seed=5)
        run = demo.first_run(session)
        held, rejected = run.proposals[0], run.proposals[1]
        match = match_run_service.accept_proposal(session, actor=actor, proposal_id=held.id)
        match_service.accept(session, actor=actor, match=match)
        match_run_service.reject_proposal(session, actor=actor, proposal_id=rejected.id, reason="known_to_each_other")
        session.flush()
        volunteer_ids = [v.id for v in match_repository.active_volunteers(session)]
        referral_ids = list(session.execute(select(Referral.id)).scalars())
        others = [vid for vid in volunteer_ids if vid != held.volunteer_id]

        def read() -> tuple[Any, ...]:
            zone, now = ZoneInfo("Europe/London"), clock.now()
            return (
                match_repository.current_parents(session, volunteer_ids),
                match_repository.current_parents(session, others),
                match_repository.busy_slots(session, volunteer_ids, zone=zone, now=now),
                match_repository.busy_slots(session, others, zone=zone, now=now),
                match_repository.excluded_pairs(session, referral_ids),
                match_repository.excluded_pairs(session, [held.referral_id]),
            )

        few = read()
        monkeypatch.setattr(match_repository, "_IN_LIST_MAX", 0)
        assert read() == few
    load, load_of_others, busy, busy_of_others, excluded, excluded_of_held = few
    assert load[held.volunteer_id] == 1 and held.volunteer_id not in load_of_others
    assert busy[held.volunteer_id] and held.volunteer_id not in busy_of_others
    assert (rejected.referral_id, rejected.volunteer_id) in excluded and not excluded_of_held


def test_a_run_reads_its_people_as_plain_rows_that_profile_as_their_orm_objects_do(db: Connection) -> None:
    with Session(db) as session:
        demo.fill(session, referrals=60, volunteers=30, seed=4)
        settings = programme_service.current(session)
        as_rows = problem_for(
            session, match_run_repository.run_referrals(session, None, reopening=()), settings=settings
        )
        as_objects = problem_for(
            session,
            match_run_repository.waiting_referrals(session, None),
            settings=settings,
            volunteers=match_repository.active_volunteers(session),
        )
    assert as_rows == as_objects
    assert len(as_rows.referrals) == 60 and len(as_rows.volunteers) == 30
    assert any(not v.ready for v in as_rows.volunteers) and any(v.ready for v in as_rows.volunteers)
