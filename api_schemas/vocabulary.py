"""Controlled codes of the programme."""

from enum import StrEnum

from api_schemas.common import ApiModel, Code, Name


class VocabularyKind(StrEnum):
    background = "background"
    experiences = "experiences"
    interests = "interests"
    specialisms = "specialisms"
    end_reasons = "end_reasons"
    cancel_reasons = "cancel_reasons"
    reject_reasons = "reject_reasons"
    leave_reasons = "leave_reasons"  # why a volunteer left (`left_reason`), for the volunteers' report


class VocabularyEntry(ApiModel):
    code: Code
    label: Name


Vocabulary = dict[VocabularyKind, list[VocabularyEntry]]
