"""The asyncio client: `await AsyncPeerMatch(api_key).referrals.create(...)`, the same methods as `PeerMatch`."""

import builtins
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
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
from peer_match_client._http import AsyncSender
from peer_match_client.retries import Retry
from peer_match_client.sync import DEFAULT_BASE_URL, DEFAULT_TIMEOUT_S, MAX_PAGE_SIZE

T = TypeVar("T")


async def _pages(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        for item in page.items:
            yield item
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class Referrals:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def create(
        self, referral: ReferralIn | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> ReferralView:
        """Send a referral; retries keep one Idempotency-Key (yours, or one made for this call)."""
        return await self._send(calls.create_referral(referral), idempotency_key=idempotency_key)

    async def get(self, referral_id: str) -> ReferralView:
        return await self._send(calls.get_referral(referral_id))

    async def get_tagged(self, referral_id: str) -> Tagged[ReferralView]:
        """The referral with its ETag, for `update(..., if_match=tagged.etag)`."""
        return await self._send(calls.get_referral_tagged(referral_id))

    async def list(
        self,
        *,
        status: ReferralStatus | str | None = None,
        area: str | None = None,
        external_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[ReferralView]:
        return await self._send(
            calls.list_referrals(status=status, area=area, external_id=external_id, limit=limit, cursor=cursor)
        )

    def iter(
        self,
        *,
        status: ReferralStatus | str | None = None,
        area: str | None = None,
        external_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[ReferralView]:
        """Every referral matching the filters, page after page, following `next_cursor`."""
        return _pages(
            lambda cursor: self.list(status=status, area=area, external_id=external_id, limit=page_size, cursor=cursor)
        )

    async def update(
        self, referral_id: str, patch: ReferralPatch | Mapping[str, Any], *, if_match: str
    ) -> ReferralView:
        return await self._send(calls.update_referral(referral_id, patch, if_match))

    async def withdraw(self, referral_id: str, reason: str) -> ReferralView:
        return await self._send(calls.withdraw_referral(referral_id, reason))

    async def suggestions(self, referral_id: str, *, k: int = 5) -> builtins.list[SuggestionOut]:
        return await self._send(calls.suggest_volunteers(referral_id, k))


class Volunteers:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def create(
        self, volunteer: VolunteerIn | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> VolunteerOut:
        return await self._send(calls.create_volunteer(volunteer), idempotency_key=idempotency_key)

    async def get(self, volunteer_id: str) -> VolunteerOut:
        return await self._send(calls.get_volunteer(volunteer_id))

    async def get_tagged(self, volunteer_id: str) -> Tagged[VolunteerOut]:
        return await self._send(calls.get_volunteer_tagged(volunteer_id))

    async def list(
        self,
        *,
        status: VolunteerStatus | str | None = None,
        area: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[VolunteerOut]:
        return await self._send(calls.list_volunteers(status=status, area=area, limit=limit, cursor=cursor))

    def iter(
        self, *, status: VolunteerStatus | str | None = None, area: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[VolunteerOut]:
        return _pages(lambda cursor: self.list(status=status, area=area, limit=page_size, cursor=cursor))

    async def update(
        self, volunteer_id: str, patch: VolunteerPatch | Mapping[str, Any], *, if_match: str
    ) -> VolunteerOut:
        return await self._send(calls.update_volunteer(volunteer_id, patch, if_match))


class MatchRuns:
    def __init__(self, send: AsyncSender, sleep: Callable[[float], Awaitable[None]] = anyio.sleep) -> None:
        self._send = send
        self._sleep = sleep

    async def create(
        self, *, referral_ids: list[str] | None = None, wait: bool = True, idempotency_key: str | None = None
    ) -> MatchRunOut:
        """Solve the named referrals, or every waiting one; the proposals wait for a coordinator. With `wait`
        (the default) the run is returned finished (`done` or `failed`): solved in the request when it is small
        enough, or else polled until it ends. Without, it is returned as it starts (`queued`): see `wait_for`."""
        run = await self._send(calls.create_match_run(referral_ids, wait=wait), idempotency_key=idempotency_key)
        return await self.wait_for(run.id) if wait and run.status not in calls.FINISHED else run

    async def get(self, run_id: str, *, result: bool = True) -> MatchRunOut:
        """The run as it stands; once done, with its proposals and unmatched unless `result` is False (a national
        run's are tens of MB: page them with `proposals` and `unmatched`)."""
        return await self._send(calls.get_match_run(run_id, result=result))

    def proposals(self, run_id: str, *, page_size: int = MAX_PAGE_SIZE) -> AsyncIterator[ProposalOut]:
        """A done run's proposals, by id, fetched a page at a time."""
        return _pages(lambda cursor: self._send(calls.list_match_run_proposals(run_id, limit=page_size, cursor=cursor)))

    def unmatched(self, run_id: str, *, page_size: int = MAX_PAGE_SIZE) -> AsyncIterator[UnmatchedOut]:
        """A done run's unmatched referrals, by referral id, fetched a page at a time."""
        return _pages(lambda cursor: self._send(calls.list_match_run_unmatched(run_id, limit=page_size, cursor=cursor)))

    async def wait_for(self, run_id: str, *, poll_every_s: float = 1.0, timeout_s: float = 600.0) -> MatchRunOut:
        """Poll a run until it is `done` or `failed`; TimeoutError if it is still under way after `timeout_s`."""
        deadline = anyio.current_time() + timeout_s
        while True:
            # Polled without the result, which is read once, at the end.
            run = await self.get(run_id, result=False)
            if run.status in calls.FINISHED:
                return await self.get(run_id)
            if anyio.current_time() >= deadline:
                raise TimeoutError(f"match run {run_id} is still {run.status} after {timeout_s} s")
            await self._sleep(poll_every_s)


class Proposals:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def accept(self, proposal_id: str) -> MatchOut:
        return await self._send(calls.accept_proposal(proposal_id))

    async def reject(self, proposal_id: str, reason: str) -> ProposalOut:
        return await self._send(calls.reject_proposal(proposal_id, reason))


class Matches:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def create(self, match: MatchIn | Mapping[str, Any], *, idempotency_key: str | None = None) -> MatchOut:
        return await self._send(calls.create_match(match), idempotency_key=idempotency_key)

    async def get(self, match_id: str) -> MatchOut:
        return await self._send(calls.get_match(match_id))

    async def list(
        self,
        *,
        status: MatchStatusWire | str | None = None,
        volunteer_id: str | None = None,
        referral_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[MatchOut]:
        return await self._send(
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
    ) -> AsyncIterator[MatchOut]:
        return _pages(
            lambda cursor: self.list(
                status=status, volunteer_id=volunteer_id, referral_id=referral_id, limit=page_size, cursor=cursor
            )
        )

    async def accept(self, match_id: str) -> MatchView:
        return await self._send(calls.accept_match(match_id))

    async def decline(self, match_id: str) -> MatchView:
        return await self._send(calls.decline_match(match_id))

    async def end(self, match_id: str, ending: EndIn | Mapping[str, Any]) -> MatchOut:
        return await self._send(calls.end_match(match_id, ending))

    async def extend(self, match_id: str, extension: ExtensionIn | Mapping[str, Any]) -> builtins.list[SessionOut]:
        return await self._send(calls.extend_match(match_id, extension))

    async def sessions(self, match_id: str) -> builtins.list[SessionOut]:
        return await self._send(calls.match_sessions(match_id))


class Sessions:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def attendance(self, session_id: str, attendance: AttendanceIn | Mapping[str, Any]) -> SessionOut:
        return await self._send(calls.record_attendance(session_id, attendance))

    async def cancel(self, session_id: str, cancellation: CancelIn | Mapping[str, Any]) -> list[SessionOut]:
        return await self._send(calls.cancel_session(session_id, cancellation))

    async def reschedule(self, session_id: str, reschedule: RescheduleIn | Mapping[str, Any]) -> SessionOut:
        return await self._send(calls.reschedule_session(session_id, reschedule))


class Vocabulary:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def get(self) -> dict[str, list[VocabularyEntry]]:
        return await self._send(calls.get_vocabulary())

    async def add(self, kind: VocabularyKind | str, entry: VocabularyEntry | Mapping[str, Any]) -> VocabularyEntry:
        return await self._send(calls.add_vocabulary_code(kind, entry))


class Me:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def get(self) -> VolunteerOut:
        return await self._send(calls.get_me())

    async def get_tagged(self) -> Tagged[VolunteerOut]:
        return await self._send(calls.get_me_tagged())

    async def update(self, patch: MePatch | Mapping[str, Any], *, if_match: str) -> VolunteerOut:
        return await self._send(calls.update_me(patch, if_match))

    async def sessions(self) -> list[SessionOut]:
        return await self._send(calls.my_sessions())

    async def matches(self) -> list[MyMatchOut]:
        return await self._send(calls.my_matches())

    async def calendar(self) -> CalendarFeedOut:
        """A new secret feed URL; the previous one stops working."""
        return await self._send(calls.rotate_calendar())


class AsyncPeerMatch:
    """The peer-match API for asyncio. `api_key` defaults to $PEER_MATCH_API_KEY. Pass `http_client` to use
    your own `httpx.AsyncClient` (for tests, one with `transport=httpx.ASGITransport(app)`): its `base_url` is
    then the service's, and the client is yours to close."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http_client: httpx.AsyncClient | None = None,
        retry: Retry | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        send = AsyncSender(
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

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()
