"""Each operation of the API as data (method, path, query, body, how to read the answer), shared by the
sync and async clients so that the two cannot drift apart on a path or a model."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from api_schemas.common import Page
from api_schemas.matching import (
    EndIn,
    ExtensionIn,
    MatchIn,
    MatchOut,
    MatchRunIn,
    MatchRunOut,
    MatchRunStatus,
    MatchStatusWire,
    ProposalOut,
    RejectIn,
    SuggestionOut,
    UnmatchedOut,
)
from api_schemas.referrals import ReferralIn, ReferralOut, ReferralPatch, ReferralStatus, ReferralStatusOut, WithdrawIn
from api_schemas.sessions import AttendanceIn, CalendarFeedOut, CancelIn, MyMatchOut, RescheduleIn, SessionOut
from api_schemas.vocabulary import VocabularyEntry, VocabularyKind
from api_schemas.volunteers import MePatch, VolunteerIn, VolunteerOut, VolunteerPatch, VolunteerStatus

T = TypeVar("T")
Body = BaseModel | Mapping[str, Any]

# A coordinator reads the full referral, an integrator its status only; pydantic's smart union picks the
# model whose fields the body fills best.
ReferralView = ReferralOut | ReferralStatusOut
# A volunteer who accepts or declines reads her own view of the match; a coordinator the whole record.
MatchView = MatchOut | MyMatchOut


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tagged(Generic[T]):
    """A record with the ETag it was read at, to send back as `if_match` when changing it."""

    record: T
    etag: str | None


def _reader(annotation: Any) -> Callable[[httpx.Response], Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    return lambda response: adapter.validate_python(response.json())


def _tagged(annotation: Any) -> Callable[[httpx.Response], Any]:
    read = _reader(annotation)
    return lambda response: Tagged(read(response), response.headers.get("ETag"))


def _items(annotation: Any) -> Callable[[httpx.Response], Any]:
    read = _reader(Page[annotation])
    return lambda response: read(response).items


def _nothing(_response: httpx.Response) -> None:
    return None


def _json(body: Body | None) -> Any:
    """A model as the wire wants it (fields the caller did not set are left to the service's defaults); a
    plain mapping is sent as given, so the service stays the one judge of what is valid."""
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True, by_alias=True)
    return dict(body)


def _seg(value: str) -> str:
    """A path segment, quoted whole: an id holding "/" or "?" must not change the route."""
    return quote(str(value), safe="")


def _query(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def _if_match(etag: str | None) -> dict[str, str]:
    return {"If-Match": etag} if etag else {}


_referral = _reader(ReferralView)
_referral_page = _reader(Page[ReferralView])
_volunteer = _reader(VolunteerOut)
_volunteer_page = _reader(Page[VolunteerOut])
_match = _reader(MatchOut)
_match_page = _reader(Page[MatchOut])
_match_view = _reader(MatchView)
_session = _reader(SessionOut)
_sessions = _items(SessionOut)


# Referrals
def create_referral(referral: ReferralIn | Mapping[str, Any]) -> Call[ReferralView]:
    return Call("POST", "/v1/referrals", _referral, json=_json(referral))


def get_referral(referral_id: str) -> Call[ReferralView]:
    return Call("GET", f"/v1/referrals/{_seg(referral_id)}", _referral)


def get_referral_tagged(referral_id: str) -> Call[Tagged[ReferralView]]:
    return Call("GET", f"/v1/referrals/{_seg(referral_id)}", _tagged(ReferralView))


def list_referrals(
    *,
    status: ReferralStatus | str | None,
    area: str | None,
    external_id: str | None,
    limit: int | None,
    cursor: str | None,
) -> Call[Page[ReferralView]]:
    params = _query(status=status, area=area, external_id=external_id, limit=limit, cursor=cursor)
    return Call("GET", "/v1/referrals", _referral_page, params=params)


def update_referral(
    referral_id: str, patch: ReferralPatch | Mapping[str, Any], if_match: str | None
) -> Call[ReferralView]:
    return Call(
        "PATCH", f"/v1/referrals/{_seg(referral_id)}", _referral, json=_json(patch), headers=_if_match(if_match)
    )


def withdraw_referral(referral_id: str, reason: str) -> Call[ReferralView]:
    return Call("POST", f"/v1/referrals/{_seg(referral_id)}/withdraw", _referral, json=_json(WithdrawIn(reason=reason)))


def suggest_volunteers(referral_id: str, k: int) -> Call[list[SuggestionOut]]:
    return Call("GET", f"/v1/referrals/{_seg(referral_id)}/suggestions", _items(SuggestionOut), params={"k": k})


# Volunteers
def create_volunteer(volunteer: VolunteerIn | Mapping[str, Any]) -> Call[VolunteerOut]:
    return Call("POST", "/v1/volunteers", _volunteer, json=_json(volunteer))


def get_volunteer(volunteer_id: str) -> Call[VolunteerOut]:
    return Call("GET", f"/v1/volunteers/{_seg(volunteer_id)}", _volunteer)


def get_volunteer_tagged(volunteer_id: str) -> Call[Tagged[VolunteerOut]]:
    return Call("GET", f"/v1/volunteers/{_seg(volunteer_id)}", _tagged(VolunteerOut))


def list_volunteers(
    *, status: VolunteerStatus | str | None, area: str | None, limit: int | None, cursor: str | None
) -> Call[Page[VolunteerOut]]:
    params = _query(status=status, area=area, limit=limit, cursor=cursor)
    return Call("GET", "/v1/volunteers", _volunteer_page, params=params)


def update_volunteer(
    volunteer_id: str, patch: VolunteerPatch | Mapping[str, Any], if_match: str | None
) -> Call[VolunteerOut]:
    return Call(
        "PATCH", f"/v1/volunteers/{_seg(volunteer_id)}", _volunteer, json=_json(patch), headers=_if_match(if_match)
    )


# Match runs and proposals
# A run in one of these has ended: nothing more will change.
FINISHED = frozenset({MatchRunStatus.done, MatchRunStatus.failed})


def create_match_run(referral_ids: list[str] | None, *, wait: bool = False) -> Call[MatchRunOut]:
    body = MatchRunIn(referral_ids=referral_ids) if referral_ids is not None else MatchRunIn()
    params = {"wait": "true"} if wait else {}
    return Call("POST", "/v1/match-runs", _reader(MatchRunOut), params=params, json=_json(body))


def get_match_run(run_id: str, *, result: bool = True) -> Call[MatchRunOut]:
    params = {} if result else {"result": "false"}
    return Call("GET", f"/v1/match-runs/{_seg(run_id)}", _reader(MatchRunOut), params=params)


def list_match_run_proposals(run_id: str, *, limit: int | None, cursor: str | None) -> Call[Page[ProposalOut]]:
    params = _query(limit=limit, cursor=cursor)
    return Call("GET", f"/v1/match-runs/{_seg(run_id)}/proposals", _reader(Page[ProposalOut]), params=params)


def list_match_run_unmatched(run_id: str, *, limit: int | None, cursor: str | None) -> Call[Page[UnmatchedOut]]:
    params = _query(limit=limit, cursor=cursor)
    return Call("GET", f"/v1/match-runs/{_seg(run_id)}/unmatched", _reader(Page[UnmatchedOut]), params=params)


def accept_proposal(proposal_id: str) -> Call[MatchOut]:
    return Call("POST", f"/v1/proposals/{_seg(proposal_id)}/accept", _match)


def reject_proposal(proposal_id: str, reason: str) -> Call[ProposalOut]:
    return Call(
        "POST", f"/v1/proposals/{_seg(proposal_id)}/reject", _reader(ProposalOut), json=_json(RejectIn(reason=reason))
    )


# Matches
def create_match(match: MatchIn | Mapping[str, Any]) -> Call[MatchOut]:
    return Call("POST", "/v1/matches", _match, json=_json(match))


def get_match(match_id: str) -> Call[MatchOut]:
    return Call("GET", f"/v1/matches/{_seg(match_id)}", _match)


def list_matches(
    *,
    status: MatchStatusWire | str | None,
    volunteer_id: str | None,
    referral_id: str | None,
    limit: int | None,
    cursor: str | None,
) -> Call[Page[MatchOut]]:
    params = _query(status=status, volunteer_id=volunteer_id, referral_id=referral_id, limit=limit, cursor=cursor)
    return Call("GET", "/v1/matches", _match_page, params=params)


def accept_match(match_id: str) -> Call[MatchView]:
    return Call("POST", f"/v1/matches/{_seg(match_id)}/accept", _match_view)


def decline_match(match_id: str) -> Call[MatchView]:
    return Call("POST", f"/v1/matches/{_seg(match_id)}/decline", _match_view)


def end_match(match_id: str, ending: EndIn | Mapping[str, Any]) -> Call[MatchOut]:
    return Call("POST", f"/v1/matches/{_seg(match_id)}/end", _match, json=_json(ending))


def extend_match(match_id: str, extension: ExtensionIn | Mapping[str, Any]) -> Call[list[SessionOut]]:
    return Call("POST", f"/v1/matches/{_seg(match_id)}/extensions", _sessions, json=_json(extension))


def match_sessions(match_id: str) -> Call[list[SessionOut]]:
    return Call("GET", f"/v1/matches/{_seg(match_id)}/sessions", _sessions)


# Sessions
def record_attendance(session_id: str, attendance: AttendanceIn | Mapping[str, Any]) -> Call[SessionOut]:
    return Call("POST", f"/v1/sessions/{_seg(session_id)}/attendance", _session, json=_json(attendance))


def cancel_session(session_id: str, cancellation: CancelIn | Mapping[str, Any]) -> Call[list[SessionOut]]:
    return Call("POST", f"/v1/sessions/{_seg(session_id)}/cancel", _sessions, json=_json(cancellation))


def reschedule_session(session_id: str, reschedule: RescheduleIn | Mapping[str, Any]) -> Call[SessionOut]:
    return Call("POST", f"/v1/sessions/{_seg(session_id)}/reschedule", _session, json=_json(reschedule))


# Vocabulary
def get_vocabulary() -> Call[dict[str, list[VocabularyEntry]]]:
    return Call("GET", "/v1/vocabulary", _reader(dict[str, list[VocabularyEntry]]))


def add_vocabulary_code(
    kind: VocabularyKind | str, entry: VocabularyEntry | Mapping[str, Any]
) -> Call[VocabularyEntry]:
    return Call("POST", f"/v1/vocabulary/{_seg(kind)}", _reader(VocabularyEntry), json=_json(entry))


# The volunteer's own view
def get_me() -> Call[VolunteerOut]:
    return Call("GET", "/v1/me", _volunteer)


def get_me_tagged() -> Call[Tagged[VolunteerOut]]:
    return Call("GET", "/v1/me", _tagged(VolunteerOut))


def update_me(patch: MePatch | Mapping[str, Any], if_match: str | None) -> Call[VolunteerOut]:
    return Call("PATCH", "/v1/me", _volunteer, json=_json(patch), headers=_if_match(if_match))


def my_sessions() -> Call[list[SessionOut]]:
    return Call("GET", "/v1/me/sessions", _sessions)


def my_matches() -> Call[list[MyMatchOut]]:
    return Call("GET", "/v1/me/matches", _items(MyMatchOut))


def rotate_calendar() -> Call[CalendarFeedOut]:
    return Call("POST", "/v1/me/calendar", _reader(CalendarFeedOut))
