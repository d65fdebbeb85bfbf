"""A volunteer's sessions as an iCalendar feed: stable UID per session, SEQUENCE on change, cancelled sessions
as STATUS:CANCELLED, the programme's time zone, and nothing identifying or clinical about the parent."""

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from api_schemas.sessions import SessionStatus
from service.models import SupportSession

KIND_LABEL = {"ending_conversation": "ending conversation", "closing": "closing session"}
FORMAT_LABEL = {"home_visit": "home visit", "telephone": "telephone", "in_person": "in person", "video": "video"}


def title(row: SupportSession, first_name: str | None) -> str:
    """A title such as "Peer support: home visit": the parent's first name only when the programme shows names,
    and the ending sessions marked (the volunteer prepares for those differently)."""
    who = f" with {first_name}" if first_name else ""
    kind = f" ({KIND_LABEL[row.kind]})" if row.kind in KIND_LABEL else ""
    return f"Peer support: {FORMAT_LABEL.get(row.format, 'session')}{who}{kind}"


def feed(
    sessions: list[tuple[SupportSession, str | None]],
    *,
    time_zone: str,
    now: datetime,
    venue_addresses: dict[str, str] | None = None,
) -> bytes:
    """`sessions` pairs each session with the parent's first name (or None); `venue_addresses` gives each
    venue's address as one line, the LOCATION of in-person sessions there (other sessions have none)."""
    zone = ZoneInfo(time_zone)
    calendar = Calendar()
    calendar.add("prodid", "-//peer-match//sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Peer support sessions")
    calendar.add_component(Timezone.from_tzinfo(zone, first_date=now.date().replace(year=now.year - 1)))
    for row, first_name in sessions:
        event = Event()
        event.add("uid", f"{row.id}@peer-match")
        event.add("sequence", row.sequence)
        event.add("dtstamp", now)
        event.add("dtstart", row.starts_at.astimezone(zone))
        event.add("dtend", row.ends_at.astimezone(zone))
        event.add("summary", title(row, first_name))
        location = (venue_addresses or {}).get(row.venue_id or "") if row.format == "in_person" else None
        if location:
            event.add("location", location)
        event.add(
            "status", "CANCELLED" if row.status in (SessionStatus.cancelled, SessionStatus.on_hold) else "CONFIRMED"
        )
        calendar.add_component(event)
    return calendar.to_ical()
