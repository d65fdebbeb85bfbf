"""Referral use cases: receive, read within the caller's rights, edit, withdraw."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api_schemas.common import AvailabilityWindow, Location
from api_schemas.messages import ContactPreferences, missing_address
from api_schemas.referrals import (
    ConsentOut,
    HomeAddress,
    Needs,
    ParentOut,
    ReferralIn,
    ReferralOut,
    ReferralPatch,
    ReferralStatus,
    ReferralStatusOut,
    Referrer,
)
from service.core import audit, clock, idempotency, languages, outbox, places, together
from service.core.auth import KEY_IS_LIVE, Principal, Role
from service.core.errors import Conflict, NotFound, Unauthorized, invalid
from service.core.etags import check_if_match
from service.core.ids import new_id
from service.core.pagination import decode, next_cursor
from service.models import Referral
from service.referrals import lifecycle, measures, repository, rules


def create(*, db: Session, caller: Principal, referral_in: ReferralIn) -> Referral:
    """A new referral, held in the session so that what its caller changes later in the request is saved."""
    referral = receive(db=db, caller=caller, referral_in=referral_in)[0]
    if referral_in.epds is None:
        repository.hold(db, referral)
    return referral


def receive(
    *,
    db: Session,
    caller: Principal,
    referral_in: ReferralIn,
    key: idempotency.Key | None = None,
    answer: Callable[[Referral], idempotency.Answer] | None = None,
) -> tuple[Referral, idempotency.Answer | None]:
    """Check and write a new referral with its audit row and event; with a key, also the answer `answer` makes
    of it, stored to replay to a retry. A duplicate of a referral (or of a key) already written is 409; the
    caller replays what `idempotency.stored` finds for its key, if anything. The referral is not kept in the
    session (keeping it cost a twentieth of a post's CPU) unless an EPDS came with it: a caller that changes it
    later in the request holds it first (repository.hold), as `create` does."""
    parent = referral_in.parent
    found = rules.Findings()
    with found.check():
        if caller.role is Role.integrator and referral_in.external_id is None:
            raise invalid(["body", "external_id"], "is required for integrators")
    with found.check():
        rules.check_perinatal_window(
            due_date=parent.due_date, baby_birth_date=parent.baby_birth_date, today=clock.today()
        )
    with found.check():
        rules.check_must_match(referral_in.must_match, referral_in.volunteer_gender)
    with found.check():
        rules.check_codes(
            db,
            background=referral_in.background,
            experiences=referral_in.experiences,
            interests=referral_in.interests,
            must_match=referral_in.must_match,
            specialisms=referral_in.needs.specialisms,
        )
    needs = None
    with found.check():
        needs = rules.needs_json(referral_in.needs)
    tags: list[str] = []
    with found.check():
        tags = languages.normalise(referral_in.languages, loc=["body", "languages"])
    with found.check():
        _check_contact(referral_in.contact_preferences, phone=parent.phone, email=parent.email)
    place = None
    with found.check():
        place = places.resolve(parent.postcode, parent.location, loc=["body", "parent"])
    with found.check():
        _check_address(parent.address, parent.postcode)
    found.raise_any()
    assert place is not None  # resolve either answered or added its error, raised just above
    source = caller.referral_source
    now = clock.now()
    values = dict(
        id=new_id(),
        source=source,
        external_id=referral_in.external_id,
        created_by_key_id=caller.key_id,
        status=ReferralStatus.waiting.value,
        referrer_organisation=referral_in.referrer.organisation,
        referrer_role=referral_in.referrer.role.value,
        parent_name=parent.name,
        parent_role=parent.role.value,
        phone=parent.phone,
        email=parent.email,
        postcode=place.postcode,
        lat=place.lat,
        lon=place.lon,
        location_precision=place.precision,
        area=place.area,
        address_lines=list(parent.address.lines) if parent.address else None,
        access_notes=parent.access_notes,
        max_travel_km=parent.max_travel_km,
        due_date=parent.due_date,
        baby_birth_date=parent.baby_birth_date,
        languages=tags,
        formats=[f.value for f in referral_in.formats],
        availability=[w.model_dump(mode="json") for w in referral_in.availability],
        background=referral_in.background,
        experiences=referral_in.experiences,
        interests=referral_in.interests,
        volunteer_gender=referral_in.volunteer_gender.value,
        must_match=referral_in.must_match,
        simd_quintile=referral_in.simd_quintile,
        needs=needs,
        consent_share=referral_in.consent.share_with_volunteer,
        consent_contact=referral_in.consent.contact,
        consent_given_on=referral_in.consent.given_on,
        contact_preferences=referral_in.contact_preferences.model_dump(mode="json"),
        received_at=now,
        updated_at=now,
    )
    referral, referral_row = repository.new(values)
    event = outbox.event_row(
        "referral.received",
        record_type="referral",
        record_id=referral.id,
        source=referral.source,
        received_at=referral.received_at,
    )
    rows = [
        referral_row,
        audit.row(actor=caller, action="referral.received", record_type="referral", record_id=referral.id),
        event,
    ]
    answered = None
    if key is not None and answer is not None and referral_in.epds is None:
        answered = answer(referral)
        rows.append(idempotency.row(key, answered))
    written = _write_new(db, rows, referral_in.external_id, source, caller)
    assert written is not None  # `then` always answers a row
    if caller.unchecked and not written.key_is_live:
        raise Unauthorized("The API key is not valid or has been revoked.")  # and nothing was written
    outbox.raised(db, event[1], event[1]["payload"], any_webhook=bool(written.any_webhook))
    if referral_in.epds is not None:
        repository.hold(db, referral)  # the measure may escalate her
        measures.record(db=db, actor=caller, referral=referral, measure_in=referral_in.epds)
        if key is not None and answer is not None:
            answered = answer(referral)  # after the measure, which may have escalated her
            _write_new(db, [idempotency.row(key, answered)], referral_in.external_id, source)
    return referral, answered


# Asked with a new referral's rows: whether any webhook is live (outbox.raised), and, for a caller taken from
# memory (auth.RecentKeys), whether its key still is; if not, nothing is written.
_AFTER_WRITE = outbox.ANY_WEBHOOK
_AFTER_WRITE_AND_KEY = outbox.ANY_WEBHOOK.add_columns(KEY_IS_LIVE.label("key_is_live"))


def _write_new(
    db: Session, rows: together.Rows, external_id: str | None, source: str, caller: Principal | None = None
) -> Row[Any] | None:
    """Write a new referral's rows; with `caller`, answer _AFTER_WRITE in the same trip. The unique indexes on
    (source, external_id) and on the key find a duplicate without a query first: 409, with nothing of the
    request kept."""
    then: Select[Any] | None = None
    only_if, parameters = None, None
    if caller is not None:
        then = _AFTER_WRITE
        if caller.unchecked:
            then, only_if, parameters = _AFTER_WRITE_AND_KEY, KEY_IS_LIVE, {"live_key_id": caller.key_id}
    try:
        return together.insert_rows(db.connection(), rows, then=then, only_if=only_if, parameters=parameters)
    except IntegrityError:
        db.rollback()  # the whole request: nothing is half-written
        _refuse_duplicate(db, source, external_id)
        raise Conflict("This request was already received (its Idempotency-Key is in use).") from None


def _refuse_duplicate(db: Session, source: str, external_id: str | None) -> None:
    if external_id is None:
        return
    existing = repository.by_external_id(db, source, external_id)
    if existing is not None:
        raise Conflict(
            f"A referral with external_id '{external_id}' already exists: {existing.id}.",
            extra={"existing_id": existing.id},
        )


def visible(*, db: Session, caller: Principal, referral_id: str) -> Referral:
    """The referral if this caller may see it; 404 alike for missing and for someone else's."""
    referral = repository.get(db, referral_id)
    if referral is None or not _may_see(caller, referral):
        raise NotFound("No referral with this id.")
    return referral


def _may_see(caller: Principal, referral: Referral) -> bool:
    if caller.role in (Role.admin, Role.coordinator):
        return True
    return caller.role is Role.integrator and referral.source == caller.referral_source


def page(
    *,
    db: Session,
    caller: Principal,
    status: ReferralStatus | None,
    area: str | None,
    external_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Referral], str | None]:
    source = caller.referral_source if caller.role is Role.integrator else None
    rows = repository.page(
        db,
        source=source,
        status=status.value if status else None,
        area=area,
        external_id=external_id,
        after_id=decode(cursor),
        limit=limit,
    )
    return rows[:limit], next_cursor([r.id for r in rows], limit)


def update(
    *, db: Session, caller: Principal, referral: Referral, patch: ReferralPatch, if_match: str | None
) -> Referral:
    check_if_match(if_match, referral.version)
    fields = patch.model_fields_set
    # How she may be contacted is hers to change at any time, matched or not; the rest only while she waits.
    if fields - CONTACT_FIELDS:
        lifecycle.ensure_editable(referral.status)
    if patch.contact_preferences is not None:
        referral.contact_preferences = patch.contact_preferences.model_dump(mode="json")
    if patch.consent is not None:
        referral.consent_contact = patch.consent.contact
    if patch.languages is not None:
        referral.languages = languages.normalise(patch.languages, loc=["body", "languages"])
    if patch.formats is not None:
        referral.formats = [f.value for f in patch.formats]
    if patch.availability is not None:
        if not patch.availability:
            raise invalid(["body", "availability"], "at least one window is needed")
        referral.availability = [w.model_dump(mode="json") for w in patch.availability]
    rules.check_codes(
        db,
        background=patch.background,
        experiences=patch.experiences,
        interests=patch.interests,
        must_match=patch.must_match,
        specialisms=patch.needs.specialisms if patch.needs is not None else None,
    )
    if patch.needs is not None:
        referral.needs = rules.needs_json(patch.needs)
    for name in ("background", "experiences", "interests", "must_match"):
        if getattr(patch, name) is not None:
            setattr(referral, name, getattr(patch, name))
    if patch.volunteer_gender is not None:
        referral.volunteer_gender = patch.volunteer_gender.value
    if "simd_quintile" in fields:  # null clears it: a quintile given in error is not kept
        referral.simd_quintile = patch.simd_quintile
    rules.check_must_match(referral.must_match, referral.volunteer_gender)
    if patch.referrer is not None:
        referral.referrer_organisation = patch.referrer.organisation
        referral.referrer_role = patch.referrer.role.value
    if patch.parent is not None:
        _update_parent(referral, patch)
    _check_contact(contact_preferences(referral), phone=referral.phone, email=referral.email)
    if not fields:
        return referral
    referral.version += 1
    referral.updated_at = clock.now()
    db.add(referral)
    audit.record(
        db,
        actor=caller,
        action="referral.updated",
        record_type="referral",
        record_id=referral.id,
        reason=",".join(sorted(fields)),
    )
    return referral


CONTACT_FIELDS = frozenset({"contact_preferences", "consent"})


def contact_preferences(referral: Referral) -> ContactPreferences:
    return ContactPreferences.model_validate(referral.contact_preferences or {})


def _check_contact(preferences: ContactPreferences, *, phone: str | None, email: str | None) -> None:
    missing = missing_address(preferences, phone=phone, email=email)
    if missing is not None:
        raise invalid(["body", "contact_preferences", "channel"], missing)


def _check_address(address: HomeAddress | None, postcode: str | None) -> None:
    """A home address belongs to the postcode matching measured her distances from: one that differs would send
    her volunteer to another place than the one the match was made for."""
    if address is None:
        return
    if postcode is None:
        raise invalid(["body", "parent", "address"], "a home address needs the parent's postcode (not a location)")
    if address.postcode is not None and address.postcode != postcode:
        raise invalid(["body", "parent", "address", "postcode"], f"differs from the parent's postcode {postcode}")


def _update_parent(referral: Referral, patch: ReferralPatch) -> None:
    parent = patch.parent
    assert parent is not None
    for name in ("phone", "email", "access_notes", "max_travel_km"):
        if name in parent.model_fields_set:
            setattr(referral, name, getattr(parent, name))
    if parent.name is not None:
        referral.parent_name = parent.name
    if referral.phone is None and referral.email is None:
        raise invalid(["body", "parent"], "keep a phone number or an email address, so she can be contacted")
    if parent.postcode is not None or parent.location is not None:
        if parent.postcode is not None and parent.location is not None:
            raise invalid(["body", "parent"], "give postcode or location, not both")
        place = places.resolve(parent.postcode, parent.location, loc=["body", "parent"])
        moved = place.postcode != referral.postcode
        referral.postcode, referral.lat, referral.lon = place.postcode, place.lat, place.lon
        referral.area, referral.location_precision = place.area, place.precision
        if moved and referral.address_lines and "address" not in parent.model_fields_set:
            # A new postcode is a move: the old lines would send her volunteer to the wrong door.
            raise invalid(["body", "parent", "address"], "give her new address with the new postcode (or null)")
    if "address" in parent.model_fields_set:
        _check_address(parent.address, referral.postcode)
        referral.address_lines = list(parent.address.lines) if parent.address else None
    if parent.due_date is not None or parent.baby_birth_date is not None:
        due = parent.due_date if parent.due_date is not None else referral.due_date
        born = parent.baby_birth_date if parent.baby_birth_date is not None else referral.baby_birth_date
        rules.check_perinatal_window(due_date=due, baby_birth_date=born, today=clock.today())
        referral.due_date, referral.baby_birth_date = due, born


def withdraw(*, db: Session, caller: Principal, referral: Referral, reason: str) -> Referral:
    referral.withdrawn_reason = reason
    lifecycle.move(db, referral, ReferralStatus.withdrawn, action="withdrawn", actor=caller)
    return referral


def to_out(referral: Referral) -> ReferralOut:
    location = (
        None
        if referral.postcode or referral.lat is None or referral.lon is None
        else Location(lat=referral.lat, lon=referral.lon)
    )
    return ReferralOut(
        id=referral.id,
        source=referral.source,
        external_id=referral.external_id,
        status=ReferralStatus(referral.status),
        referrer=Referrer(organisation=referral.referrer_organisation or "(erased)", role=referral.referrer_role),
        parent=ParentOut(
            name=referral.parent_name,
            role=referral.parent_role,
            phone=referral.phone,
            email=referral.email,
            postcode=referral.postcode,
            location=location,
            due_date=referral.due_date,
            baby_birth_date=referral.baby_birth_date,
            address=home_address(referral),
            access_notes=referral.access_notes,
            max_travel_km=referral.max_travel_km,
        ),
        area=referral.area,
        languages=referral.languages,
        formats=referral.formats,
        availability=[AvailabilityWindow.model_validate(w) for w in referral.availability],
        background=referral.background,
        experiences=referral.experiences,
        interests=referral.interests,
        volunteer_gender=referral.volunteer_gender,
        must_match=referral.must_match,
        simd_quintile=referral.simd_quintile,
        needs=Needs.model_validate(referral.needs or {}),
        consent=ConsentOut(
            share_with_volunteer=referral.consent_share,
            contact=referral.consent_contact,
            given_on=referral.consent_given_on,
        ),
        contact_preferences=contact_preferences(referral),
        priority=referral.priority,
        risk_review_pending=referral.risk_review_pending,
        paused_until=referral.paused_until,
        withdrawn_reason=referral.withdrawn_reason,
        received_at=referral.received_at,
        updated_at=referral.updated_at,
        erased_at=referral.erased_at,
    )


def home_address(referral: Referral) -> HomeAddress | None:
    if not referral.address_lines:
        return None
    return HomeAddress(lines=referral.address_lines, postcode=referral.postcode)


def to_status_out(referral: Referral) -> ReferralStatusOut:
    return ReferralStatusOut(
        id=referral.id,
        external_id=referral.external_id,
        status=ReferralStatus(referral.status),
        received_at=referral.received_at,
        updated_at=referral.updated_at,
        erased_at=referral.erased_at,
    )


def view(caller: Principal, referral: Referral) -> ReferralOut | ReferralStatusOut:
    """What this caller may read of a referral: integrators get status and dates only."""
    return to_status_out(referral) if caller.role is Role.integrator else to_out(referral)


def as_json(model: Any) -> Any:
    return model.model_dump(mode="json")
