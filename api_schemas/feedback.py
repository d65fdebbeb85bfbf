"""End-of-support feedback: a short questionnaire of the programme's own design, answered by the parent and by
the volunteer when a match ends. The seeds ask whether peer support gave hope and eased isolation; those are
the default items."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from api_schemas.common import ApiModel, Code, Name

SHORT_TEXT = 1000


class Respondent(StrEnum):
    parent = "parent"
    volunteer = "volunteer"


class AnswerType(StrEnum):
    scale_1_5 = "scale_1_5"  # 1 not at all .. 5 very much
    yes_no = "yes_no"
    short_text = "short_text"  # at most SHORT_TEXT characters; never in a report


class FeedbackItem(ApiModel):
    code: Code
    label: Name = Field(description="The question as the programme asks it")
    answer_type: AnswerType
    respondents: Annotated[list[Respondent], Field(min_length=1, max_length=2)] = [
        Respondent.parent,
        Respondent.volunteer,
    ]


DEFAULT_QUESTIONNAIRE = [
    FeedbackItem(code="hope", label="I feel more hopeful about the future", answer_type=AnswerType.scale_1_5),
    FeedbackItem(code="less_alone", label="I feel less alone than before", answer_type=AnswerType.scale_1_5),
    FeedbackItem(
        code="would_recommend",
        label="I would recommend peer support to another parent",
        answer_type=AnswerType.yes_no,
        respondents=[Respondent.parent],
    ),
    FeedbackItem(code="comments", label="Anything you would like to tell us", answer_type=AnswerType.short_text),
]

Answer = int | bool | Annotated[str, StringConstraints(max_length=SHORT_TEXT)]


class FeedbackIn(ApiModel):
    respondent: Respondent
    answers: Annotated[dict[Code, Answer], Field(max_length=50)] = Field(
        description="By item code; every item is optional, none outside the questionnaire for this respondent"
    )


class FeedbackOut(ApiModel):
    id: str
    match_id: str
    respondent: Respondent
    answers: dict[str, Answer]
