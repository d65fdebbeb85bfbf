"""The referral post's direct route (service/referrals/direct_post.py) takes only the posts FastAPI's route would
accept as they are, answers them as that route would, and leaves every other post to that route."""

import asyncio
import json
import math
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api_schemas.referrals import ReferralIn
from service.referrals import direct_post
from tests.asgi import http_scope
from tests.conftest import KeyMaker
from tests.factories import referral_body

# Headers whose values differ from one request to the next whichever route answers.
_PER_REQUEST = {"x-request-id", "location", "etag", "date", "content-length", "ratelimit-remaining", "ratelimit-reset"}


@contextmanager
def fastapi_route_only(app: FastAPI) -> Iterator[None]:
    """The app as it was before the direct route: FastAPI's route answers every post."""
    direct = [route for route in app.router.routes if isinstance(route, direct_post.DirectReferralPost)]
    assert len(direct) == 1
    app.router.routes.remove(direct[0])
    app.router._mark_routes_changed()
    try:
        yield
    finally:
        app.router.routes.insert(0, direct[0])
        app.router._mark_routes_changed()


@pytest.fixture
def routed_again(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The body of every post the direct route handed on to FastAPI's route."""
    bodies: list[bytes] = []
    route_again = direct_post._route_again

    async def counted(scope: Any, body: bytes, send: Any) -> None:
        bodies.append(body)
        await route_again(scope, body, send)

    monkeypatch.setattr(direct_post, "_route_again", counted)
    return bodies


def _comparable(answer: Any) -> tuple[int, set[str], Any]:
    """Status, header names, and the body without what differs per request (ids, times)."""
    body = answer.json() if answer.content else None
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in {"id", "external_id", "received_at", "updated_at"}}
    return answer.status_code, set(answer.headers) - {"date"}, body


def _same_headers(a: Any, b: Any) -> None:
    for name in set(a.headers) - _PER_REQUEST:
        assert a.headers[name] == b.headers[name], name


# --- the body: what the direct route's parser takes, FastAPI's takes alike ---

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


# Every optional field given, so that mutations reach them all.
_BASE = referral_body(
    parent={
        "email": "a.nowak@example.org",
        "max_travel_km": 12.5,
        "address": {"lines": ["1 Street", "Leith"]},
        "access_notes": "Ring twice",
    },
    volunteer_gender="female",
    must_match=["language"],
    simd_quintile=2,
    needs={"specialisms": ["birth_trauma"], "interpreter": {"language": "pl", "three_way_calls": True}},
    contact_preferences={"channel": "sms", "language": "pl"},
    epds={"answers": [1, 0, 2, 1, 0, 1, 2, 0, 1, 0], "completed_on": "2026-11-30"},
)
_PATHS = [path for path in _paths(_BASE) if path]


def _near(value: Any) -> st.SearchStrategy[Any]:
    """Values a client might send in place of `value`: of its type or a neighbouring one, often valid."""
    if isinstance(value, bool):
        return st.booleans() | st.sampled_from([0, 1, "true"])
    if isinstance(value, int | float):
        alike = [float(value), str(value), *([int(value)] if math.isfinite(value) else [])]
        return st.integers(-2, 30) | st.floats(-2, 300) | st.sampled_from(alike)
    if isinstance(value, str):
        dates = [value + "T00:00:00", value + "T09:30:00+01:00", value + ":00"]  # for the dates and times
        return st.sampled_from([value, value.upper(), f" {value} ", *dates, value + "é", value[:1], ""]) | st.text(
            max_size=12
        )
    if isinstance(value, list):
        return st.sampled_from([value[:1], [], value * 2, value[::-1]])
    return st.sampled_from([{}, value])


@st.composite
def mutated_bodies(draw: st.DrawFn) -> str:
    body = json.loads(json.dumps(_BASE))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(_PATHS))
        parent = body
        try:
            for step in path[:-1]:
                parent = parent[step]
            how = draw(st.sampled_from(["near", "near", "near", "drop", "any"]))
            if how == "drop" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(_near(parent[path[-1]]) if how == "near" else _json_values)
        except (KeyError, IndexError, TypeError):  # an earlier change removed or replaced the way there
            continue
    return json.dumps(body, allow_nan=True)


def _python_way(raw: bytes) -> dict[str, Any] | None:
    """FastAPI's way: json.loads, then the model from Python objects."""
    try:
        return ReferralIn.model_validate(json.loads(raw)).model_dump()
    except (ValidationError, ValueError):
        return None


def _json_way(raw: bytes) -> dict[str, Any] | None:
    """The direct route's way: the model straight from the JSON text."""
    try:
        return ReferralIn.model_validate_json(raw).model_dump()
    except ValidationError:
        return None


def test_the_mutated_bodies_start_from_one_both_ways_take() -> None:
    """Else most mutated bodies would be refused both ways for the same old reason, and prove little."""
    raw = json.dumps(_BASE).encode()
    assert _json_way(raw) is not None
    assert _json_way(raw) == _python_way(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_bodies())
def test_a_body_the_direct_route_takes_is_taken_alike_by_fastapis_way(raw: str) -> None:
    direct = _json_way(raw.encode())
    if direct is not None:
        assert _python_way(raw.encode()) == direct


_TEXT = json.dumps(referral_body())


@pytest.mark.parametrize(
    "raw",
    [
        _TEXT[:-1] + ', "external_id": "LATER"}',  # a key twice: the last counts, both ways
        _TEXT.replace("Agnieszka", "A\\ud800b"),  # a lone surrogate
        _TEXT.replace("Agnieszka", "A\\ud83d\\ude00b"),  # a pair
        _TEXT.replace("Agnieszka", "A\tb"),  # a raw control character
        _TEXT.replace("Agnieszka", "A\\u0000b"),  # NUL
        "\ufeff" + _TEXT,  # a byte order mark
        " \n" + _TEXT + "\n\t ",
        _TEXT.replace('"mother"', '"mother", "max_travel_km": NaN'),
        _TEXT.replace('"mother"', '"mother", "max_travel_km": 1e999'),
        _TEXT.replace('"mother"', '"mother", "max_travel_km": 12.0000000000000000001'),
        json.dumps(referral_body(simd_quintile=1.0)),
        json.dumps(referral_body(epds={"answers": [1.0] * 10, "completed_on": "2026-11-30"})),
        json.dumps(referral_body(epds={"answers": [True] * 10, "completed_on": "2026-11-30"})),
        json.dumps(referral_body(consent={"contact": 1})),
        json.dumps(referral_body(parent={"due_date": 1767225600})),
        _TEXT + "x",
        "[]",
        "",
    ],
)
def test_bodies_at_the_edges_of_json_are_taken_alike_or_handed_on(raw: str) -> None:
    data = raw.encode("utf-8", "surrogatepass")
    direct = _json_way(data)
    if direct is not None:
        assert _python_way(data) == direct
    assert _json_way(b"\xff" + data) is None  # not UTF-8: handed on


# --- the answers: the same from either route ---


def _valid_post(client: TestClient, headers: dict[str, str], *, key: str | None = None, n: int = 1) -> Any:
    extra = {"Idempotency-Key": key} if key is not None else {}
    body = referral_body(n, external_id=f"DIRECT-{uuid.uuid4().hex[:12]}")
    return client.post("/v1/referrals", json=body, headers={**headers, **extra})


@pytest.mark.parametrize("role", ["coordinator", "integrator", "admin"])
def test_a_valid_post_takes_the_direct_route_and_is_answered_as_fastapis_route_answers(
    client: TestClient, app: FastAPI, make_key: KeyMaker, routed_again: list[bytes], role: str
) -> None:
    headers = make_key(role, source="nhs-lothian" if role == "integrator" else None)
    direct = _valid_post(client, headers, key=uuid.uuid4().hex)
    assert direct.status_code == 201, direct.text
    assert routed_again == []
    with fastapi_route_only(app):
        by_fastapi = _valid_post(client, headers, key=uuid.uuid4().hex)
    assert _comparable(direct) == _comparable(by_fastapi)
    _same_headers(direct, by_fastapi)
    assert direct.headers["location"] == f"/v1/referrals/{direct.json()['id']}"
    for answer in (direct, by_fastapi):  # both are stored: each reads back as it was answered
        assert client.get(answer.headers["location"], headers=headers).json() == answer.json()


def test_a_retry_is_replayed_by_either_route(client: TestClient, app: FastAPI, make_key: KeyMaker) -> None:
    headers = {**make_key("integrator", source="nhs-lothian"), "Idempotency-Key": uuid.uuid4().hex}
    body = referral_body(external_id=f"DIRECT-{uuid.uuid4().hex[:12]}")
    first = client.post("/v1/referrals", json=body, headers=headers)
    with fastapi_route_only(app):
        by_fastapi = client.post("/v1/referrals", json=body, headers=headers)
    direct = client.post("/v1/referrals", json=body, headers=headers)
    assert first.status_code == by_fastapi.status_code == direct.status_code == 201
    assert first.json() == by_fastapi.json() == direct.json()
    changed = client.post("/v1/referrals", json={**body, "interests": ["cooking"]}, headers=headers)
    with fastapi_route_only(app):
        changed_by_fastapi = client.post("/v1/referrals", json={**body, "interests": ["cooking"]}, headers=headers)
    assert _comparable(changed) == _comparable(changed_by_fastapi)
    assert changed.status_code in {409, 422}


Request = Callable[[dict[str, str]], dict[str, Any]]
_CASES: dict[str, Request] = {
    "a field the schema refuses": lambda h: {"json": referral_body(languages=["a"]), "headers": h},
    "fields the rules refuse": lambda h: {
        "json": referral_body(formats=["home_visit"], parent={"postcode": None}),
        "headers": h,
    },
    "an unknown field": lambda h: {"json": referral_body(favourite_colour="blue"), "headers": h},
    "JSON that does not parse": lambda h: {
        "content": b'{"referrer": ',
        "headers": {**h, "content-type": "application/json"},
    },
    "no body": lambda h: {"headers": h},
    "an empty body": lambda h: {"content": b"", "headers": {**h, "content-type": "application/json"}},
    "a body that is not JSON by its type": lambda h: {
        "content": json.dumps(referral_body()).encode(),
        "headers": {**h, "content-type": "text/plain"},
    },
    "an empty Idempotency-Key": lambda h: {"json": referral_body(), "headers": {**h, "Idempotency-Key": ""}},
    "an Idempotency-Key too long": lambda h: {"json": referral_body(), "headers": {**h, "Idempotency-Key": "k" * 201}},
}


@pytest.mark.parametrize("case", sorted(_CASES))
@pytest.mark.parametrize("role", ["coordinator", "integrator", None])
def test_a_post_fastapi_would_refuse_is_handed_on_and_answered_as_before(
    client: TestClient, app: FastAPI, make_key: KeyMaker, routed_again: list[bytes], case: str, role: str | None
) -> None:
    headers = {} if role is None else make_key(role, source="nhs-lothian" if role == "integrator" else None)
    if role == "integrator" and "Idempotency-Key" not in _CASES[case](headers)["headers"]:
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    request = _CASES[case](headers)
    direct = client.post("/v1/referrals", **request)
    with fastapi_route_only(app):
        by_fastapi = client.post("/v1/referrals", **request)
    assert direct.status_code >= 400, direct.text
    assert _comparable(direct) == _comparable(by_fastapi)
    _same_headers(direct, by_fastapi)
    # Refused for its body or its key: the direct route read it and handed it on, body and all.
    assert len(routed_again) == 1


@pytest.mark.parametrize(
    ("content_type", "start"), [("application/merge-patch+json", b""), ("application/json", b"\xef\xbb\xbf")]
)
def test_a_body_fastapi_reads_in_more_ways_is_handed_on_and_taken(
    client: TestClient, coordinator: dict[str, str], routed_again: list[bytes], content_type: str, start: bytes
) -> None:
    """JSON by a +json type, and JSON after a byte order mark: FastAPI reads both."""
    body = referral_body(external_id=f"DIRECT-{uuid.uuid4().hex[:12]}")
    headers = {**coordinator, "content-type": content_type}
    posted = client.post("/v1/referrals", content=start + json.dumps(body).encode(), headers=headers)
    assert posted.status_code == 201, posted.text
    assert len(routed_again) == 1


@pytest.mark.parametrize(
    ("who", "status"), [("nobody", 401), ("a wrong key", 401), ("volunteer", 403), ("integrator without a key", 422)]
)
def test_a_valid_body_from_a_caller_who_may_not_post_is_refused_as_before(
    client: TestClient, app: FastAPI, make_key: KeyMaker, who: str, status: int
) -> None:
    headers = {
        "nobody": {},
        "a wrong key": {"Authorization": "Bearer pm_not-a-key"},
        "volunteer": make_key("volunteer", volunteer_id="v-1"),
        "integrator without a key": make_key("integrator", source="nhs-lothian"),
    }[who]
    direct = _valid_post(client, headers)
    with fastapi_route_only(app):
        by_fastapi = _valid_post(client, headers)
    assert direct.status_code == status, direct.text
    assert _comparable(direct) == _comparable(by_fastapi)


def test_a_duplicate_external_id_is_refused_by_either_route(
    client: TestClient, app: FastAPI, coordinator: dict[str, str]
) -> None:
    body = referral_body(external_id=f"DIRECT-{uuid.uuid4().hex[:12]}")
    assert client.post("/v1/referrals", json=body, headers=coordinator).status_code == 201
    direct = client.post("/v1/referrals", json=body, headers=coordinator)
    with fastapi_route_only(app):
        by_fastapi = client.post("/v1/referrals", json=body, headers=coordinator)
    assert direct.status_code == 409
    assert _comparable(direct) == _comparable(by_fastapi)


def test_other_methods_and_paths_are_not_the_direct_routes(
    client: TestClient, coordinator: dict[str, str], routed_again: list[bytes]
) -> None:
    assert client.get("/v1/referrals", headers=coordinator).status_code == 200
    put = client.put("/v1/referrals", json=referral_body(), headers=coordinator)
    assert put.status_code == 405 and set(put.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    slash = client.post("/v1/referrals/", json=referral_body(), headers=coordinator, follow_redirects=False)
    assert slash.status_code in {307, 404}
    assert routed_again == []


@pytest.mark.real_commits  # /metrics reads the process's counters, kept across tests
def test_a_direct_post_is_counted_and_logged_under_its_route(client: TestClient, coordinator: dict[str, str]) -> None:
    def posts_counted() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith('peer_match_requests_total{method="POST",route="/v1/referrals",status="201"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = posts_counted()
    assert _valid_post(client, coordinator).status_code == 201
    assert posts_counted() == before + 1


def test_the_documentation_is_the_fastapi_routes(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/referrals"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ReferralIn")


def test_a_client_gone_before_its_body_is_answered_400_as_fastapi_answers(app: FastAPI) -> None:
    async def post_and_leave() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        messages = iter([{"type": "http.request", "body": b'{"referrer":', "more_body": True}])

        async def receive() -> dict[str, Any]:
            return next(messages, {"type": "http.disconnect"})

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = http_scope("/v1/referrals", [(b"host", b"testserver"), (b"content-type", b"application/json")])
        await app(scope, receive, send)
        return sent

    sent = asyncio.run(post_and_leave())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400


def test_a_streamed_body_over_the_limit_is_413(client: TestClient, coordinator: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"external_id": "'
        for _ in range(40):
            yield b"x" * 65536

    posted = client.post("/v1/referrals", content=chunks(), headers={**coordinator, "content-type": "application/json"})
    assert posted.status_code == 413, posted.text
