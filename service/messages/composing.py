"""Which messages an event causes, written in the event's own transaction (the outbox calls `on_event`).

A message holds personalisation fields only: first names, the format, the local date and time, and for visits
where they meet in words the template turns into a sentence ("home", "venue"). Never a surname, an address, a
postcode, a measure or anything of her circumstances: the sensitive-circumstances flag only picks a template."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api_schemas.messages import ContactChannel, ContactPreferences, MessageKind, MessageStatus
from api_schemas.programme import ProgrammeSettings
from service.core import clock
from service.core.ids import new_id
from service.matches import repository as matches_repository
from service.matches.lifecycle import RUNNING
from service.messages import quiet, repository, words
from service.models import Match, Message, Referral, SupportSession, Volunteer
from service.programme import service as programme_service

PARENT, VOLUNTEER = "referral", "volunteer"
K = MessageKind
# Event type → (recipient, kind). The volunteer's offer is sent only where she must accept (see below).
CAUSES: dict[str, tuple[tuple[str, MessageKind], ...]] = {
    "match.proposed": ((VOLUNTEER, K.match_offered),),
    "match.confirmed": ((PARENT, K.match_confirmed),),
    "session.reminder": ((PARENT, K.session_reminder), (VOLUNTEER, K.session_reminder)),
    "session.changed": ((PARENT, K.session_changed), (VOLUNTEER, K.plan_changed)),
    "session.cancelled": ((PARENT, K.session_cancelled), (VOLUNTEER, K.plan_changed)),
    "match.ending_soon": ((PARENT, K.ending_soon),),
}
# When a match ends every later session is cancelled at once: one message says so, not one per session.
COALESCED = frozenset({K.session_cancelled, K.plan_changed})
PLACE_WORDS = {"home_visit": "home", "in_person": "venue"}


def on_event(
    db: Session, event_type: str, record_type: str, record_id: str, data: Mapping[str, Any], event_id: str
) -> None:
    """The outbox listener: write the messages this event causes, if any, in the caller's transaction."""
    causes = CAUSES.get(event_type)
    if causes is None or record_type != "match":
        return
    match = matches_repository.get(db, record_id)
    if match is None:
        return
    programme = programme_service.current(db)
    if event_type == "match.proposed" and not programme.volunteer_must_accept:
        return
    session_id = data.get("session_id")
    session = matches_repository.get_session(db, session_id) if isinstance(session_id, str) else None
    referral = matches_repository.referral_of(db, match)
    volunteer = matches_repository.volunteer_of(db, match)
    for recipient, kind in causes:
        person: Referral | Volunteer = referral if recipient == PARENT else volunteer
        other: Referral | Volunteer = volunteer if recipient == PARENT else referral
        write(db, programme, event_id, recipient, person, other, kind, match=match, session=session)


def still_on(match: Match) -> bool:
    """The match runs and is not paused: only then is a prompt about one of its sessions wanted."""
    return match.status in RUNNING and not match.hold_reasons


def preferences(person: Referral | Volunteer) -> ContactPreferences:
    return ContactPreferences.model_validate(person.contact_preferences or {})


def why_not(person: Referral | Volunteer) -> str | None:
    """Why no message may reach her now (a code), or None: erased, no consent, `none`, or no number/address."""
    if person.erased_at is not None:
        return "erased"
    if isinstance(person, Referral) and not person.consent_contact:
        return "no_consent"
    channel = preferences(person).channel
    if channel is ContactChannel.none:
        return "channel_none"
    if (person.phone if channel is ContactChannel.sms else person.email) is None:
        return "no_address"
    return None


def write(
    db: Session,
    programme: ProgrammeSettings,
    event_id: str,
    recipient: str,
    person: Referral | Volunteer,
    other: Referral | Volunteer,
    kind: MessageKind,
    *,
    match: Match,
    session: SupportSession | None,
) -> None:
    if why_not(person) is not None:
        return
    if kind in COALESCED and repository.pending_like(db, recipient_id=person.id, match_id=match.id, kind=kind):
        return
    prefs = preferences(person)
    now = clock.now()
    repository.add(
        db,
        Message(
            id=new_id(),
            event_id=event_id,
            recipient_type=recipient,
            recipient_id=person.id,
            match_id=match.id,
            session_id=session.id if session is not None else None,
            kind=kind.value,
            channel=prefs.channel.value,
            language=prefs.language,
            template_id=template_for(programme, kind, prefs.language, sensitive=is_sensitive(programme, person)),
            personalisation=personalisation(
                programme, kind, person, other, match=match, session=session, language=prefs.language
            ),
            status=MessageStatus.pending.value,
            next_attempt_at=allowed_from(now, programme, prefs),
            created_at=now,
        ),
    )


def allowed_from(now: datetime, programme: ProgrammeSettings, prefs: ContactPreferences) -> datetime:
    """The first moment at or after `now` outside her quiet hours (hers if she set them, else the programme's)."""
    hours = prefs.quiet_hours or programme.messages.quiet_hours
    return quiet.next_allowed(
        now, start=quiet.parse(hours.start), end=quiet.parse(hours.end), zone=ZoneInfo(programme.time_zone)
    )


def template_for(programme: ProgrammeSettings, kind: MessageKind, language: str, *, sensitive: bool) -> str | None:
    """The Notify template for this kind in her language, else its primary subtag, else English; None if none.
    A sensitive referral never falls back to the ordinary wording."""
    table = (programme.messages.sensitive_templates if sensitive else programme.messages.templates).get(kind, {})
    for tag in (language, language.split("-")[0], "en"):
        if tag in table:
            return table[tag]
    return None


def is_sensitive(programme: ProgrammeSettings, person: Referral | Volunteer) -> bool:
    """She carries one of the programme's sensitive codes: a different template, never the ordinary wording."""
    if not isinstance(person, Referral):
        return False
    codes = set(person.background or []) | set(person.experiences or [])
    return bool(codes & set(programme.messages.sensitive_codes))


def first_name(person: Referral | Volunteer) -> str:
    name = person.parent_name if isinstance(person, Referral) else person.name
    return (name or "").split(" ")[0]


def personalisation(
    programme: ProgrammeSettings,
    kind: MessageKind,
    person: Referral | Volunteer,
    other: Referral | Volunteer,
    *,
    match: Match,
    session: SupportSession | None,
    language: str = "en",
) -> dict[str, str]:
    """The fields the template fills in: first names, format, local date and time, where for visits; the
    format and the date in her language's words."""
    if kind is K.check_in_prompt:
        # Read on her phone at the door: her name and the time, nothing of the parent or the place.
        assert session is not None
        return {"first_name": first_name(person), **when(session, programme, language)}
    fields = {"first_name": first_name(person), "format": words.format_words(match.format, language)}
    if kind is not K.match_offered:
        # The volunteer is offered a match before she knows the parent; she learns her name when she accepts.
        fields["other_first_name"] = first_name(other)
    if session is not None:
        fields.update(when(session, programme, language))
        if match.format in PLACE_WORDS and kind in (K.session_reminder, K.session_changed, K.plan_changed):
            fields["place"] = PLACE_WORDS[match.format]
    return fields


def when(session: SupportSession, programme: ProgrammeSettings, language: str = "en") -> dict[str, str]:
    """The session's local date (in her language) and time as the template shows them."""
    local = session.starts_at.astimezone(ZoneInfo(programme.time_zone))
    return {"date": words.local_date(local, language), "time": f"{local:%H:%M}"}
