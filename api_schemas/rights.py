"""Data rights: a subject access export and the retention schedule's runs."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class SubjectType(StrEnum):
    referral = "referral"
    volunteer = "volunteer"


class SubjectExportOut(BaseModel):
    """Every stored row about one person, grouped by table, as the database holds it (secrets left out), with the
    audit rows of who read and changed each of them. Rows shared with another person (a match, its sessions, a
    concern a volunteer raised) appear in both people's exports: review them before sending."""

    subject_type: SubjectType
    subject_id: str
    exported_at: datetime
    tables: dict[str, list[dict[str, Any]]] = Field(
        description="Table name → its rows about her, each column by name; `audit_event` holds who saw and "
        "changed them, and when"
    )
    withheld_columns: list[str] = Field(
        description="`table.column` left out of every row because they hold secrets (key hashes, feed tokens)"
    )


class RetentionSkip(BaseModel):
    id: str
    reason: str = Field(description="`risk_review_pending` or `concern_open`: erasure waits for them")


class RetentionRunOut(BaseModel):
    """What the retention schedule did (or, in a dry run, would do): ids and counts, never personal data."""

    dry_run: bool
    retention_months_after_end: int | None = Field(description="null: the programme keeps records; nothing is done")
    cutoff: datetime | None = Field(description="Ended, declined, withdrawn or left before this instant")
    referrals: list[str] = Field(description="Referrals anonymised (or that would be)")
    volunteers: list[str] = Field(description="Volunteers anonymised (or that would be)")
    skipped: list[RetentionSkip] = Field(description="Past the schedule but held back until a review is recorded")
