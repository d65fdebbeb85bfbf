"""Synthetic but realistic demo data for Scotland, from city to island, posted through the real use cases."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from api_schemas.common import AvailabilityWindow
from api_schemas.matching import MatchRunIn, MatchRunOut
from api_schemas.messages import ContactChannel, ContactPreferences
from api_schemas.referrals import Consent, Parent, ReferralIn, Referrer
from api_schemas.venues import Address, OpeningHours, VenueIn
from api_schemas.volunteers import BackgroundCheck, Capacity, VolunteerIn
from service import jobs  # noqa: F401 (its import registers the outbox listener that writes messages)
from service.core import clock, postcodes
from service.core.auth import Principal, Role
from service.core.ids import new_id
from service.match_runs import service as match_run_service
from service.match_runs import worker as match_run_worker
from service.matches import repository as matches_repository
from service.matches import service as match_service
from service.matches.reminders import raise_session_reminders
from service.messages import composing
from service.messages.prompts import write_check_in_prompts
from service.messages.sending import LogChannel, MessageSender, Outgoing
from service.models import Referral
from service.programme import service as programme_service
from service.referrals import service as referral_service
from service.venues import service as venue_service
from service.volunteers import service as volunteer_service

# (postcode district, weight): cities weigh most; islands and the rural north are there on purpose.
DISTRICTS = [
    ("EH6", 6),
    ("EH11", 5),
    ("EH16", 4),
    ("EH54", 3),
    ("G31", 6),
    ("G42", 5),
    ("G20", 4),
    ("G51", 4),
    ("PA1", 3),
    ("ML1", 3),
    ("KA1", 3),
    ("AB24", 4),
    ("AB10", 3),
    ("DD4", 3),
    ("DD1", 2),
    ("FK8", 2),
    ("KY1", 2),
    ("PH1", 2),
    ("IV2", 2),
    ("IV30", 1),
    ("DG1", 1),
    ("TD1", 1),
    ("PA34", 1),
    ("PH33", 1),
    ("IV51", 1),
    ("HS1", 1),
    ("KW15", 1),
    ("ZE1", 1),
    ("KW1", 1),
]
ISLAND_OR_RURAL = {"PA34", "PH33", "IV51", "HS1", "KW15", "ZE1", "KW1", "IV30", "DG1", "TD1"}
LANGUAGES = [
    ("en", 70),
    ("pl", 7),
    ("ur", 4),
    ("ar", 5),
    ("pa", 2),
    ("zh-Hant", 2),
    ("ro", 3),
    ("so", 2),
    ("gd", 2),
    ("fa", 1),
    ("ti", 1),
    ("uk", 1),
]
FIRST = [
    "Aisha",
    "Amy",
    "Chloe",
    "Emma",
    "Fatima",
    "Grace",
    "Hannah",
    "Iona",
    "Isla",
    "Jade",
    "Katie",
    "Lauren",
    "Leah",
    "Maria",
    "Megan",
    "Morag",
    "Nadia",
    "Natalia",
    "Olivia",
    "Rachel",
    "Rosie",
    "Sana",
    "Sarah",
    "Shona",
    "Sophie",
    "Zainab",
    "Agnieszka",
    "Mei",
    "Amal",
    "Catriona",
    "Joanna",
    "Ioana",
    "Hodan",
]
FATHERS = ["Adam", "Callum", "Daniel", "Euan", "Imran", "Jamie", "Kamil", "Ross", "Tomasz", "Yusuf"]
SURNAMES = [
    "Anderson",
    "Campbell",
    "Clark",
    "Ali",
    "Khan",
    "Kowalska",
    "MacDonald",
    "MacLeod",
    "Morrison",
    "Nowak",
    "Patel",
    "Reid",
    "Robertson",
    "Scott",
    "Smith",
    "Stewart",
    "Thomson",
    "Wilson",
    "Young",
    "Mohamed",
    "Popescu",
    "Chen",
    "Hussain",
    "Fraser",
]
EXPERIENCES = [
    "postnatal_depression",
    "antenatal_anxiety",
    "postnatal_anxiety",
    "birth_trauma",
    "perinatal_ocd",
    "isolation",
    "bonding_difficulties",
    "antenatal_depression",
]
BACKGROUND = [
    "single_parent",
    "first_time_parent",
    "low_income",
    "refugee_or_asylum",
    "neonatal_unit",
    "baby_loss",
    "young_parent",
    "ethnic_minority",
    "muslim",
    "disability",
]
INTERESTS = ["walking", "crafts", "cooking", "reading", "music", "outdoors", "faith", "gardening", "art", "baby_groups"]
SPECIALISMS = [
    "refugee_support",
    "baby_loss",
    "neonatal",
    "fathers",
    "young_parents",
    "rural_islands",
    "domestic_abuse",
    "interpreting",
]
REFERRERS = [
    ("health_visitor", "NHS Lothian Health Visiting", 5),
    ("midwife", "NHS Greater Glasgow Maternity", 3),
    ("gp", "Riverside Medical Practice", 2),
    ("perinatal_team", "Perinatal Mental Health Team", 2),
    ("self", "Self-referral", 2),
    ("other", "Third-sector family support", 1),
]
# (name, street, district, evening): one venue in most towns of the demo, so in-person parents can be met.
VENUES = [
    ("Leith Community Centre", "12 New Kirkgate", "EH6", "wed"),
    ("Gorgie Family Hub", "3 Gorgie Road", "EH11", "tue"),
    ("Craigmillar Library", "101 Niddrie Mains Road", "EH16", None),
    ("Dennistoun Community Hub", "24 Roslea Drive", "G31", "thu"),
    ("Govanhill Family Centre", "99 Calder Street", "G42", None),
    ("Paisley Town Hall Family Room", "Abbey Close", "PA1", None),
    ("Tillydrone Community Flat", "6 Gordon's Mills Crescent", "AB24", "mon"),
    ("Whitfield Family Centre", "2 Lothian Crescent", "DD4", None),
    ("Inverness Family Hub", "1 Culduthel Road", "IV2", None),
]
SLOTS = [("09:30", "12:00"), ("10:00", "12:30"), ("13:00", "15:30"), ("13:30", "16:00"), ("18:30", "20:30")]


def fill(db: Session, *, referrals: int, volunteers: int, seed: int) -> dict[str, int]:
    """Add the demo records unless the database already holds referrals (the demo never mixes with real data)."""
    if db.exec(select(func.count()).select_from(Referral)).one() > 0:
        return {"referrals": 0, "volunteers": 0}
    rng = random.Random(seed)
    actor = Principal(key_id=new_id(), role=Role.coordinator)
    places = _places(rng)
    for name, street, district, evening in VENUES:
        venue_service.create(db=db, caller=actor, venue_in=_venue(rng, name, street, district, evening))
    for index in range(volunteers):
        volunteer_service.create(db=db, caller=actor, volunteer_in=_volunteer(rng, places, index))
    for index in range(referrals):
        referral_service.create(db=db, caller=actor, referral_in=_referral(rng, places, index))
    return {"referrals": referrals, "volunteers": volunteers}


def _venue(rng: random.Random, name: str, street: str, district: str, evening: str | None) -> VenueIn:
    """Open on weekdays in office hours, some also one evening, with a room or two."""
    hours = [OpeningHours(day=day, start="09:00", end="17:00") for day in ("mon", "tue", "wed", "thu", "fri")]
    if evening is not None:
        hours = [h if h.day != evening else OpeningHours(day=evening, start="09:00", end="21:00") for h in hours]
    postcode = rng.choice(postcodes.postcodes_in(district))
    return VenueIn(
        name=name,
        address=Address(lines=[street], postcode=postcode),
        opening_hours=hours,
        rooms=rng.randint(1, 2),
        notes="Step-free access; baby changing",
    )


def _places(rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for district, weight in DISTRICTS:
        codes = postcodes.postcodes_in(district)
        out += [(district, code) for code in rng.sample(codes, min(len(codes), weight * 8))]
    return out


def _pick_weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _availability(rng: random.Random) -> list[AvailabilityWindow]:
    week = ["mon", "tue", "wed", "thu", "fri", "sat"]
    days = sorted(rng.sample(week, k=rng.randint(2, 4)), key=week.index)
    windows = []
    for day in days:
        start, end = rng.choice(SLOTS)
        windows.append(AvailabilityWindow(day=day, start=start, end=end))
    return windows


def _languages(rng: random.Random, district: str) -> list[str]:
    first = "gd" if district in {"HS1", "IV51"} and rng.random() < 0.3 else _pick_weighted(rng, LANGUAGES)
    return [first] if first == "en" else [first, "en"] if rng.random() < 0.7 else [first]


def _referral(rng: random.Random, places: list[tuple[str, str]], index: int) -> ReferralIn:
    district, postcode = rng.choice(places)
    today = clock.today()
    role = "father" if rng.random() < 0.08 else "mother"
    name = f"{rng.choice(FATHERS if role == 'father' else FIRST)} {rng.choice(SURNAMES)}"
    pregnant = rng.random() < 0.35
    formats = rng.sample(["home_visit", "telephone", "in_person"], k=rng.randint(1, 3))
    referrer_role, organisation, _ = rng.choices(REFERRERS, weights=[w for *_, w in REFERRERS])[0]
    background = rng.sample(BACKGROUND, k=rng.randint(0, 2)) + (["rural"] if district in ISLAND_OR_RURAL else [])
    referral_in = ReferralIn(
        external_id=f"DEMO-{index:05d}",
        referrer=Referrer(organisation=organisation, role=referrer_role),
        parent=Parent(
            name=name,
            role=role,
            phone=f"07700 9{rng.randint(0, 99999):05d}",
            postcode=postcode,
            due_date=today + timedelta(days=rng.randint(20, 200)) if pregnant else None,
            baby_birth_date=None if pregnant else today - timedelta(days=rng.randint(14, 600)),
        ),
        languages=_languages(rng, district),
        formats=formats,
        availability=_availability(rng),
        background=background,
        experiences=rng.sample(EXPERIENCES, k=rng.randint(1, 2)),
        interests=rng.sample(INTERESTS, k=rng.randint(0, 3)),
        volunteer_gender="male" if role == "father" and rng.random() < 0.5 else "any",
        consent=Consent(share_with_volunteer=True, contact=True, given_on=today - timedelta(days=rng.randint(0, 30))),
    )
    # Told by text in her first language (the demo's draws stay as they were: these take no random number).
    return referral_in.model_copy(update={"contact_preferences": _told_by(ContactChannel.sms, referral_in.languages)})


def _volunteer(rng: random.Random, places: list[tuple[str, str]], index: int) -> VolunteerIn:
    district, postcode = rng.choice(places)
    today = clock.today()
    male = rng.random() < 0.08
    trained = today - timedelta(days=rng.randint(30, 900))
    checked = today - timedelta(days=rng.randint(30, 1500))
    expired = rng.random() < 0.05
    volunteer_in = VolunteerIn(
        name=f"{rng.choice(FATHERS if male else FIRST)} {rng.choice(SURNAMES)}",
        email=f"volunteer{index}@example.org",
        phone=f"07700 8{rng.randint(0, 99999):05d}",
        gender="male" if male else "female",
        languages=_languages(rng, district),
        formats=rng.sample(["home_visit", "telephone", "in_person"], k=rng.randint(1, 3)),
        postcode=postcode,
        max_travel_km=float(rng.choice([5, 10, 15, 25, 40] if district in ISLAND_OR_RURAL else [3, 5, 8, 10, 15])),
        availability=_availability(rng),
        background=rng.sample(BACKGROUND, k=rng.randint(0, 3)),
        experiences=rng.sample(EXPERIENCES, k=rng.randint(1, 3)),
        interests=rng.sample(INTERESTS, k=rng.randint(1, 3)),
        specialisms=rng.sample(SPECIALISMS, k=rng.randint(0, 2)),
        capacity=Capacity(max_parents=rng.choice([1, 1, 2, 2, 3]), max_sessions_per_week=rng.choice([1, 2, 3])),
        training_completed_on=trained,
        check=BackgroundCheck(
            scheme="PVG",
            checked_on=checked,
            expires_on=today - timedelta(days=3) if expired else checked + timedelta(days=1825),
        ),
        last_supervision_on=today - timedelta(days=rng.randint(0, 70)),
    )
    return volunteer_in.model_copy(
        update={"contact_preferences": _told_by(ContactChannel.email, volunteer_in.languages)}
    )


def _told_by(channel: ContactChannel, languages: list[str]) -> ContactPreferences:
    return ContactPreferences(channel=channel, language=languages[0] if languages else "en")


def first_run(db: Session) -> MatchRunOut:
    """The demo's first match run, as a coordinator would start it."""
    actor = Principal(key_id=new_id(), role=Role.coordinator)
    return match_run_worker.run_now(db, actor=actor, run_in=MatchRunIn())


def proposals_table(db: Session, match_run: MatchRunOut, *, limit: int = 15) -> str:
    """The run's best proposals and their reasons as a plain terminal table (area and language, never names)."""
    best = sorted(match_run.proposals, key=lambda p: (-p.score, p.referral_id))[:limit]
    referrals = {r.id: r for r in db.exec(select(Referral).where(col(Referral.id).in_([p.referral_id for p in best])))}
    lines = [
        f"first match run: {match_run.stats.matched} of {match_run.stats.referrals} referrals proposed a "
        f"volunteer ({match_run.stats.candidate_pairs} candidate pairs, optimal: {match_run.stats.optimal})",
        f"{'referral':<10} {'area':<5} {'lang':<8} {'format':<11} {'volunteer':<10} {'fit':>3}  reasons",
    ]
    for proposal in best:
        referral = referrals.get(proposal.referral_id)
        area = referral.area if referral and referral.area else "?"
        language = referral.languages[0] if referral and referral.languages else "?"
        top = sorted(proposal.reasons, key=lambda r: -r.points)[:3]
        reasons = "; ".join(f"{r.detail} (+{r.points})" for r in top)
        lines.append(
            f"{proposal.referral_id[-8:]:<10} {area:<5} {language:<8} {proposal.format:<11} "
            f"{proposal.volunteer_id[-8:]:<10} {proposal.fit:>3}  {reasons}"
        )
    at_venues = [p for p in match_run.proposals if p.venue is not None]
    if at_venues:
        example = next(r for r in at_venues[0].reasons if r.code == "venue_in_reach")
        lines.append(
            f"in person at a venue: {len(at_venues)} proposals, e.g. {at_venues[0].referral_id[-8:]} "
            f"{example.detail} (+{example.points})"
        )
    for unmatched in match_run.unmatched[:5]:
        lines.append(
            f"not matched {unmatched.referral_id[-8:]}: {'; '.join(r.detail for r in unmatched.reasons)[:160]}"
        )
    return "\n".join(lines)


class _Shown(LogChannel):
    """The log channel's masked line for each message, kept to print with the demo clock's time."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def send(self, outgoing: Outgoing) -> str:
        line = self.masked(outgoing)
        fields = " ".join(f"{key}={value}" for key, value in dict(line["personalisation"]).items())  # type: ignore[call-overload]
        self.lines.append(
            f"{clock.now():%a %d %b %H:%M}  {outgoing.kind:<17} {outgoing.channel:<6} {line['to']:<22} {fields}"
        )
        return ""


@contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    # The demo shows a reminder a day before a session that is days away: it moves its own clock, nothing else.
    real = clock.now
    clock.now = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        clock.now = real  # type: ignore[assignment]


def _send_due(engine: Engine, sender: MessageSender) -> None:
    """Send what is waiting, at the end of quiet hours if the demo clock is inside them."""
    with Session(engine) as db:
        moment = composing.allowed_from(clock.now(), programme_service.current(db), ContactPreferences())
    with _clock_at(moment):
        sender(engine)


def messages_walkthrough(engine: Engine, match_run: MatchRunOut) -> str:
    """One match's messages end to end as the log channel writes them (masked): the volunteer's offer, the
    parent's confirmation, both reminders of the first session and, for a home visit, the check-in prompt."""
    if not match_run.proposals:
        return ""
    # A home visit if there is one: it has the most to show (the volunteer's check-in prompt as well).
    best = max(match_run.proposals, key=lambda p: (p.format == "home_visit", p.score, p.referral_id))
    shown = _Shown()
    sender = MessageSender(shown, log_sends=False)  # the demo prints its own lines; the CLI configures no logs
    coordinator = Principal(key_id=new_id(), role=Role.coordinator)
    with Session(engine) as db:
        match_id = match_run_service.accept_proposal(db, actor=coordinator, proposal_id=best.id).id
        db.commit()
    _send_due(engine, sender)
    with Session(engine) as db:
        match = matches_repository.get(db, match_id)
        assert match is not None
        planned = match_service.accept(db, actor=coordinator, match=match)
        first = min(planned, key=lambda s: s.starts_at)
        starts_at, home_visit = first.starts_at, first.format == "home_visit"
        lead = timedelta(hours=programme_service.current(db).reminder_lead_hours)
        db.commit()
    _send_due(engine, sender)
    moments = [(starts_at - lead + timedelta(minutes=1), raise_session_reminders)]
    if home_visit:
        moments.append((starts_at + timedelta(minutes=1), write_check_in_prompts))
    for moment, job in moments:
        with _clock_at(moment):
            with Session(engine) as db:
                job(db)
                db.commit()
            _send_due(engine, sender)
    header = f"one match's messages (log channel: the number or address and the names masked), match {match_id[-8:]}:"
    return "\n".join([header, *(f"  {line}" for line in shown.lines)])
