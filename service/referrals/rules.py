"""Rules a referral must keep that the wire schema cannot check alone."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from api_schemas.referrals import Needs, VolunteerGender
from api_schemas.vocabulary import VocabularyKind
from service.core import languages, places
from service.core.errors import InvalidInput, invalid
from service.vocabulary import service as vocabulary_service


class Findings:
    """Every rule's errors, kept so that one answer names them all: an integrator fixes a referral in one round
    trip, not one error per round trip."""

    def __init__(self) -> None:
        self.errors: list[tuple[list[str | int], str]] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except InvalidInput as exc:
            self.errors.extend((item["loc"], item["msg"]) for item in exc.extra["errors"])

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


PREGNANCY_DAYS = 294  # 42 weeks: a due date further ahead is not a current pregnancy
POSTNATAL_DAYS = 731  # the perinatal window closes when the baby is two


def check_perinatal_window(*, due_date: date | None, baby_birth_date: date | None, today: date) -> None:
    """Pregnant now, or a baby under two (counted from the birth, or from the due date if not given)."""
    loc = ["body", "parent"]
    if baby_birth_date is not None:
        if baby_birth_date > today:
            raise invalid([*loc, "baby_birth_date"], "is in the future; give due_date for a pregnancy")
        if (today - baby_birth_date).days >= POSTNATAL_DAYS:
            raise invalid(
                [*loc, "baby_birth_date"],
                "the baby is two or older: outside the perinatal window this service supports",
            )
        return
    if due_date is None:
        return
    if due_date > today + timedelta(days=PREGNANCY_DAYS):
        raise invalid([*loc, "due_date"], "is more than 42 weeks away")
    if (today - due_date).days >= POSTNATAL_DAYS:
        raise invalid([*loc, "due_date"], "was two or more years ago: outside the perinatal window")


def check_codes(
    db: Session,
    *,
    background: list[str] | None,
    experiences: list[str] | None,
    interests: list[str] | None,
    must_match: list[str] | None,
    specialisms: list[str] | None = None,
) -> None:
    items = vocabulary_service.coded_fields(
        {
            "background": (VocabularyKind.background, background),
            "experiences": (VocabularyKind.experiences, experiences),
            "interests": (VocabularyKind.interests, interests),
        }
    )
    items += [
        (["body", "needs", "specialisms", i], VocabularyKind.specialisms, c) for i, c in enumerate(specialisms or [])
    ]
    kinds = {
        "background": VocabularyKind.background,
        "experience": VocabularyKind.experiences,
        "specialism": VocabularyKind.specialisms,
    }
    for index, item in enumerate(must_match or []):
        prefix, _, code = item.partition(":")
        if prefix in kinds:
            items.append((["body", "must_match", index], kinds[prefix], code))
    vocabulary_service.check_codes(db, items)


def check_must_match(must_match: list[str], volunteer_gender: str) -> None:
    if "volunteer_gender" in must_match and volunteer_gender == VolunteerGender.any:
        raise invalid(["body", "must_match"], "volunteer_gender is essential but volunteer_gender is 'any'")


def needs_json(needs: Needs) -> dict[str, object] | None:
    """Her needs as stored, the interpreter's language normalised; None when she has none."""
    if not needs.specialisms and needs.interpreter is None:
        return None
    stored = needs.model_dump(mode="json")
    if needs.interpreter is not None:
        if not (needs.interpreter.three_way_calls or needs.interpreter.at_visits):
            raise invalid(
                ["body", "needs", "interpreter"],
                "say how an interpreter can be arranged: three_way_calls, at_visits or both",
            )
        loc = ["body", "needs", "interpreter", "language"]
        stored["interpreter"]["language"] = languages.normalise_one(needs.interpreter.language, loc=loc)
    return stored


def _strings(value: Any) -> list[str] | None:
    return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


def on_refused_body(db: Session, body: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    """The rules on a referral body the wire schema refused, as far as it can be read: languages, the postcode and
    the vocabulary codes. The 422 then names every error at once, schema and rules alike, and an integrator
    fixes a referral in one round trip."""
    found = Findings()
    tags = _strings(body.get("languages"))
    if tags:
        with found.check():
            languages.normalise(tags, loc=["body", "languages"])
    parent = body.get("parent")
    if isinstance(parent, dict) and isinstance(parent.get("postcode"), str) and parent["postcode"].strip():
        with found.check():
            places.resolve(parent["postcode"].strip(), None, loc=["body", "parent"])
    needs = body.get("needs")
    with found.check():
        check_codes(
            db,
            background=_strings(body.get("background")),
            experiences=_strings(body.get("experiences")),
            interests=_strings(body.get("interests")),
            must_match=_strings(body.get("must_match")),
            specialisms=_strings(needs.get("specialisms")) if isinstance(needs, dict) else None,
        )
    return found.errors
