"""End-of-support feedback for a match, against the programme's questionnaire (ProgrammeSettings
.feedback_questionnaire): one set of answers per respondent, each answer checked against its item's type, and
a wrong or unknown item 422 naming it. A volunteer may give only her own answers, on her own match."""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api_schemas.feedback import SHORT_TEXT, AnswerType, FeedbackIn, FeedbackItem, FeedbackOut, Respondent
from service.core import audit, clock
from service.core.auth import Principal, Role
from service.core.errors import Conflict, Forbidden, invalid
from service.core.ids import new_id
from service.matches import repository
from service.models import Feedback, Match
from service.programme import service as programme_service


def _check(item: FeedbackItem | None, code: str, value: Any) -> Any:
    loc = ["body", "answers", code]
    if item is None:
        raise invalid(loc, "not an item of the programme's questionnaire for this respondent")
    if item.answer_type is AnswerType.scale_1_5:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise invalid(loc, "must be a whole number from 1 to 5")
    elif item.answer_type is AnswerType.yes_no:
        if not isinstance(value, bool):
            raise invalid(loc, "must be true or false")
    elif not isinstance(value, str) or len(value) > SHORT_TEXT:
        raise invalid(loc, f"must be text of at most {SHORT_TEXT} characters")
    return value


def record(db: Session, *, caller: Principal, match: Match, feedback_in: FeedbackIn) -> Feedback:
    if caller.role is Role.volunteer and feedback_in.respondent is not Respondent.volunteer:
        raise Forbidden("A volunteer gives only her own answers.")
    questionnaire = {
        item.code: item
        for item in programme_service.current(db).feedback_questionnaire
        if feedback_in.respondent in item.respondents
    }
    answers = {code: _check(questionnaire.get(code), code, value) for code, value in feedback_in.answers.items()}
    feedback = Feedback(
        id=new_id(),
        match_id=match.id,
        respondent=feedback_in.respondent.value,
        answers=answers,
        recorded_by_key_id=caller.key_id,
        recorded_at=clock.now(),
    )
    try:
        repository.add_feedback(db, feedback)
    except IntegrityError:
        db.rollback()
        raise Conflict(f"The {feedback_in.respondent.value}'s feedback on this match is already recorded.") from None
    audit.record(db, actor=caller, action="feedback.recorded", record_type="match", record_id=match.id)
    return feedback


def to_out(feedback: Feedback) -> FeedbackOut:
    return FeedbackOut(
        id=feedback.id, match_id=feedback.match_id, respondent=Respondent(feedback.respondent), answers=feedback.answers
    )
