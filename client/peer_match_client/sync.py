"""The blocking client: `PeerMatch(api_key).referrals.create(...)`."""

import builtins
import os
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from api_schemas.common import Page
from api_schemas.matching import (
    EndIn,
    ExtensionIn,
    MatchIn,
    MatchOut,
    MatchRunOut,
    MatchStatusWire,
    ProposalOut,
    SuggestionOut,
    UnmatchedOut,
)
from api_schemas.referrals import ReferralIn, ReferralPatch, ReferralStatus
from api_schemas.sessions import AttendanceIn, CalendarFeedOut, CancelIn, MyMatchOut, RescheduleIn, SessionOut
from api_schemas.vocabulary import VocabularyEntry, VocabularyKind
from api_schemas.volunteers import MePatch, VolunteerIn, VolunteerOut, VolunteerPatch, VolunteerStatus
from peer_match_client import _calls as calls
from peer_match_client._calls import MatchView, ReferralView, Tagged
from peer_match_client._http import Sender
from peer_match_client.retries import Retry

T = TypeVar("T")
DEFAULT_BASE_URL = "http://localhost:8000"
DEFAULT_TIMEOUT_S = 30.0  # a match run over a whole waiting list can take several seconds
MAX_PAGE_SIZE = 200


def _pages(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class Referrals:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def create(self, referral: ReferralIn | Mapping[str, Any], *, idempotency_key: str | None = None) -> ReferralView:
        """Send a referral; retries keep one Idempotency-Key (yours, or one made for this call)."""
        return self._send(calls.create_referral(referral), idempotency_key=idempotency_key)

    def get(self, referral_id: str) -> ReferralView:
        return self._send(calls.get_referral(referral_id))

    def get_tagged(self, referral_id: str) -> Tagged[ReferralView]:
        """The referral with its ETag, for `update(..., if_match=tagged.etag)`."""
        return self._send(calls.get_referral_tagged(referral_id))

    def list(
        self,
        *,
        status: ReferralStatus | str | None = None,
        area: str | None = None,
        external_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[ReferralView]:
        return self._send(
            calls.list_referrals(status=status, area=area, external_id=external_id, limit=limit, cursor=cursor)
        )

    def iter(
        self,
        *,
        status: ReferralStatus | str | None = None,
        area: str | None = None,
        external_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[ReferralView]:
        """Every referral matching the filters, page after page, following `next_cursor`."""
        return _pages(
            lambda cursor: self.list(status=status, area=area, external_id=external_id, limit=page_size, cursor=cursor)
        )

    def update(self, referral_id: str, patch: ReferralPatch | Mapping[str, Any], *, if_match: str) -> ReferralView:
        return self._send(calls.update_referral(referral_id, patch, if_match))

    def withdraw(self, referral_id: str, reason: str) -> ReferralView:
        return self._send(calls.withdraw_referral(referral_id, reason))

    def suggestions(self, referral_id: str, *, k: int = 5) -> builtins.list[SuggestionOut]:
        return self._send(calls.suggest_volunteers(referral_id, k))


class Volunteers:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def create(self, volunteer: VolunteerIn | Mapping[str, Any], *, idempotency_key: str | None = None) -> VolunteerOut:
        return self._send(calls.create_volunteer(volunteer), idempotency_key=idempotency_key)

    def get(self, volunteer_id: str) -> VolunteerOut:
        return self._send(calls.get_volunteer(volunteer_id))

    def get_tagged(self, volunteer_id: str) -> Tagged[VolunteerOut]:
        return self._send(calls.get_volunteer_tagged(volunteer_id))

    def list(
        self,
        *,
        status: VolunteerStatus | str | None = None,
        area: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[VolunteerOut]:
        return self._send(calls.list_volunteers(status=status, area=area, limit=limit, cursor=cursor))

    def iter(
        self, *, status: VolunteerStatus | str | None = None, area: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[VolunteerOut]:
        return _pages(lambda cursor: self.list(status=status, area=area, limit=page_size, cursor=cursor))

    def update(self, volunteer_id: str, patch: VolunteerPatch | Mapping[str, Any], *, if_match: str) -> VolunteerOut:
        return self._send(calls.update_volunteer(volunteer_id, patch, if_match))


class MatchRuns:
    def __init__(self, send: Sender, sleep: Callable[[float], None] = time.sleep) -> None:
        self._send = send
        self._sleep = sleep

    def create(
        self, *, referral_ids: list[str] | None = None, wait: bool = True, idempotency_key: str | None = None
    ) -> MatchRunOut:
        """Solve the named referrals, or every waiting one; the proposals wait for a coordinator. With `wait`
        (the default) the run is returned finished (`done` or `failed`): solved in the request when it is small
        enough, or else polled until it ends. Without, it is returned as it starts (`queued`): see `wait_for`."""
        run = self._send(calls.create_match_run(referral_ids, wait=wait), idempotency_key=idempotency_key)
        return self.wait_for(run.id) if wait and run.status not in calls.FINISHED else run

    def get(self, run_id: str, *, result: bool = True) -> MatchRunOut:
        """The run as it stands; once done, with its proposals and unmatched unless `result` is False (a national
        run's are tens of MB: page them with `proposals` and `unmatched`)."""
        return self._send(calls.get_match_run(run_id, result=result))

    def proposals(self, run_id: str, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[ProposalOut]:
        """A done run's proposals, by id, fetched a page at a time."""
        return _pages(lambda cursor: self._send(calls.list_match_run_proposals(run_id, limit=page_size, cursor=cursor)))

    def unmatched(self, run_id: str, *, page_size: int = MAX_PAGE_SIZE) -> Iterator[UnmatchedOut]:
        """A done run's unmatched referrals, by referral id, fetched a page at a time."""
        return _pages(lambda cursor: self._send(calls.list_match_run_unmatched(run_id, limit=page_size, cursor=cursor)))

    def wait_for(self, run_id: str, *, poll_every_s: float = 1.0, timeout_s: float = 600.0) -> MatchRunOut:
        """Poll a run until it is `done` or `failed`; TimeoutError if it is still under way after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            # Polled without the result, which is read once, at the end.
            run = self.get(run_id, result=False)
            if run.status in calls.FINISHED:
                return self.get(run_id)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"match run {run_id} is still {run.status} after {timeout_s} s")
            self._sleep(poll_every_s)


class Proposals:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def accept(self, proposal_id: str) -> MatchOut:
        return self._send(calls.accept_proposal(proposal_id))

    def reject(self, proposal_id: str, reason: str) -> ProposalOut:
        return self._send(calls.reject_proposal(proposal_id, reason))


class Matches:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def create(self, match: MatchIn | Mapping[str, Any], *, idempotency_key: str | None = None) -> MatchOut:
        return self._send(calls.create_match(match), idempotency_key=idempotency_key)

    def get(self, match_id: str) -> MatchOut:
        return self._send(calls.get_match(match_id))

    def list(
        self,
        *,
        status: MatchStatusWire | str | None = None,
        volunteer_id: str | None = None,
        referral_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[MatchOut]:
        return self._send(
            calls.list_matches(
                status=status, volunteer_id=volunteer_id, referral_id=referral_id, limit=limit, cursor=cursor
            )
        )

    def iter(
        self,
        *,
        status: MatchStatusWire | str | None = None,
        volunteer_id: str | None = None,
        referral_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[MatchOut]:
        return _pages(
            lambda cursor: self.list(
                status=status, volunteer_id=volunteer_id, referral_id=referral_id, limit=page_size, cursor=cursor
            )
        )

    def accept(self, match_id: str) -> MatchView:
        return self._send(calls.accept_match(match_id))

    def decline(self, match_id: str) -> MatchView:
        return self._send(calls.decline_match(match_id))

    def end(self, match_id: str, ending: EndIn | Mapping[str, Any]) -> MatchOut:
        return self._send(calls.end_match(match_id, ending))

    def extend(self, match_id: str, extension: ExtensionIn | Mapping[str, Any]) -> builtins.list[SessionOut]:
        return self._send(calls.extend_match(match_id, extension))

    def sessions(self, match_id: str) -> builtins.list[SessionOut]:
        return self._send(calls.match_sessions(match_id))


class Sessions:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def attendance(self, session_id: str, attendance: AttendanceIn | Mapping[str, Any]) -> SessionOut:
        return self._send(calls.record_attendance(session_id, attendance))

    def cancel(self, session_id: str, cancellation: CancelIn | Mapping[str, Any]) -> list[SessionOut]:
        return self._send(calls.cancel_session(session_id, cancellation))

    def reschedule(self, session_id: str, reschedule: RescheduleIn | Mapping[str, Any]) -> SessionOut:
        return self._send(calls.reschedule_session(session_id, reschedule))


class Vocabulary:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def get(self) -> dict[str, list[VocabularyEntry]]:
        return self._send(calls.get_vocabulary())

    def add(self, kind: VocabularyKind | str, entry: VocabularyEntry | Mapping[str, Any]) -> VocabularyEntry:
        return self._send(calls.add_vocabulary_code(kind, entry))


class Me:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def get(self) -> VolunteerOut:
        return self._send(calls.get_me())

    def get_tagged(self) -> Tagged[VolunteerOut]:
        return self._send(calls.get_me_tagged())

    def update(self, patch: MePatch | Mapping[str, Any], *, if_match: str) -> VolunteerOut:
        return self._send(calls.update_me(patch, if_match))

    def sessions(self) -> list[SessionOut]:
        return self._send(calls.my_sessions())

    def matches(self) -> list[MyMatchOut]:
        return self._send(calls.my_matches())

    def calendar(self) -> CalendarFeedOut:
        """A new secret feed URL; the previous one stops working."""
        return self._send(calls.rotate_calendar())


class PeerMatch:
    """The peer-match API. `api_key` defaults to $PEER_MATCH_API_KEY. Pass `http_client` to use your own
    `httpx.Client` (a proxy, certificates, a Starlette TestClient): its `base_url` is then the service's, and
    the client is yours to close."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http_client: httpx.Client | None = None,
        retry: Retry | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(base_url=base_url, timeout=timeout)
        send = Sender(
            self._http, api_key=api_key or os.environ.get("PEER_MATCH_API_KEY"), retry=retry or Retry(), sleep=sleep
        )
        self.referrals = Referrals(send)
        self.volunteers = Volunteers(send)
        self.match_runs = MatchRuns(send, sleep)
        self.proposals = Proposals(send)
        self.matches = Matches(send)
        self.sessions = Sessions(send)
        self.vocabulary = Vocabulary(send)
        self.me = Me(send)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
