"""seed the UK starter vocabulary and the default programme settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STARTER: dict[str, list[tuple[str, str]]] = {
    "background": [
        ("refugee_or_asylum", "Refugee or asylum seeker"),
        ("single_parent", "Single parent"),
        ("rural", "Lives rurally or on an island"),
        ("baby_loss", "Baby loss"),
        ("neonatal_unit", "Baby in a neonatal unit"),
        ("ethnic_minority", "Ethnic minority community"),
        ("low_income", "Low income"),
        ("domestic_abuse", "Domestic abuse"),
        ("substance_use", "Substance use in recovery"),
        ("disability", "Disability"),
        ("young_parent", "Young parent (under 20)"),
        ("multiple_birth", "Twins or more"),
        ("lgbtq_parent", "LGBTQ+ parent"),
        ("military_family", "Armed forces family"),
        ("care_experienced", "Care experienced"),
        ("muslim", "Muslim faith"),
        ("christian", "Christian faith"),
        ("sikh", "Sikh faith"),
        ("hindu", "Hindu faith"),
        ("jewish", "Jewish faith"),
        ("first_time_parent", "First-time parent"),
    ],
    "experiences": [
        ("postnatal_depression", "Postnatal depression"),
        ("antenatal_depression", "Antenatal depression"),
        ("antenatal_anxiety", "Antenatal anxiety"),
        ("postnatal_anxiety", "Postnatal anxiety"),
        ("birth_trauma", "Birth trauma"),
        ("perinatal_ocd", "Perinatal OCD"),
        ("postpartum_psychosis", "Postpartum psychosis (recovered)"),
        ("tokophobia", "Fear of childbirth"),
        ("bonding_difficulties", "Difficulties bonding"),
        ("feeding_difficulties", "Feeding difficulties"),
        ("isolation", "Loneliness and isolation"),
        ("paternal_depression", "Paternal depression"),
    ],
    "interests": [
        ("walking", "Walking"),
        ("crafts", "Crafts"),
        ("cooking", "Cooking"),
        ("reading", "Reading"),
        ("music", "Music"),
        ("outdoors", "Outdoors and nature"),
        ("faith", "Faith community"),
        ("sport", "Sport and fitness"),
        ("gardening", "Gardening"),
        ("art", "Art"),
        ("gaming", "Gaming"),
        ("baby_groups", "Baby groups and play"),
    ],
    "specialisms": [
        ("refugee_support", "Supporting refugees and asylum seekers"),
        ("baby_loss", "Baby loss"),
        ("neonatal", "Neonatal experience"),
        ("domestic_abuse", "Domestic abuse awareness"),
        ("fathers", "Supporting fathers"),
        ("young_parents", "Supporting young parents"),
        ("rural_islands", "Rural and island families"),
        ("disability", "Disability"),
        ("substance_use", "Substance use"),
        ("interpreting", "Works with interpreters"),
    ],
    "end_reasons": [
        ("completed", "Planned sessions completed"),
        ("feeling_better", "Feeling better"),
        ("no_longer_wanted", "No longer wanted"),
        ("not_a_good_fit", "Not a good fit"),
        ("moved_away", "Moved away"),
        ("unreachable", "Could not be reached"),
        ("clinical_needs", "Needs clinical support instead"),
        ("volunteer_unavailable", "Volunteer unavailable"),
        ("volunteer_wellbeing", "Volunteer's own wellbeing"),
        ("other", "Other"),
    ],
    "cancel_reasons": [
        ("unwell", "Unwell"),
        ("baby_unwell", "Baby unwell"),
        ("appointment_clash", "Another appointment"),
        ("childcare", "Childcare"),
        ("weather_travel", "Weather or travel"),
        ("not_up_to_it", "Not up to it today"),
        ("volunteer_unwell", "Volunteer unwell"),
        ("other", "Other"),
    ],
    "reject_reasons": [
        ("language_fit", "Language fit"),
        ("distance", "Too far"),
        ("known_to_each_other", "Know each other"),
        ("availability", "Times do not suit"),
        ("experience_fit", "Experience fit"),
        ("volunteer_wellbeing", "Volunteer's own wellbeing"),
        ("other", "Other"),
    ],
}

DEFAULT_PROGRAMME = {
    "time_zone": "Europe/London",
    "bank_holiday_region": "scotland",
    "planned_sessions": 8,
    "session_minutes": 60,
    "max_extension_sessions": 4,
    "ending_conversation_offset": 2,
    "rest_days": 14,
    "supervision_interval_days": 56,
    "epds_threshold": 13,
    "volunteer_must_accept": True,
    "reminder_lead_hours": 24,
}


def upgrade() -> None:
    vocabulary = sa.table(
        "vocabulary_code", sa.column("kind", sa.String), sa.column("code", sa.String), sa.column("label", sa.String)
    )
    op.bulk_insert(
        vocabulary,
        [{"kind": kind, "code": code, "label": label} for kind, entries in STARTER.items() for code, label in entries],
    )
    programme = sa.table(
        "programme", sa.column("id", sa.Integer), sa.column("settings", sa.JSON), sa.column("version", sa.Integer)
    )
    op.bulk_insert(programme, [{"id": 1, "settings": DEFAULT_PROGRAMME, "version": 1}])


def downgrade() -> None:
    op.execute("DELETE FROM programme")
    op.execute("DELETE FROM vocabulary_code")
