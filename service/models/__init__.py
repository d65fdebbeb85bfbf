"""SQLModel tables, one file per aggregate. Import this package to register them all on the metadata."""

from service.models.api_key import ApiKey
from service.models.audit import AuditEvent
from service.models.concern import Concern, ConcernActionRecord
from service.models.contact import Contact
from service.models.events import Delivery, OutboxEvent, Webhook
from service.models.feedback import Feedback
from service.models.idempotency import IdempotencyRecord
from service.models.match import Match, SupportSession
from service.models.matching import ExcludedPair, MatchRun, Proposal
from service.models.measures import Measure, RiskReview
from service.models.message import Message
from service.models.programme import Programme, VocabularyCode
from service.models.referral import Referral
from service.models.supervision import DueAlert, SupervisionRecord, TrainingRecord
from service.models.venue import Venue
from service.models.volunteer import Volunteer

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Concern",
    "ConcernActionRecord",
    "Contact",
    "Delivery",
    "DueAlert",
    "ExcludedPair",
    "Feedback",
    "IdempotencyRecord",
    "Match",
    "MatchRun",
    "Measure",
    "Message",
    "OutboxEvent",
    "Programme",
    "Proposal",
    "Referral",
    "RiskReview",
    "SupervisionRecord",
    "SupportSession",
    "TrainingRecord",
    "Venue",
    "VocabularyCode",
    "Volunteer",
    "Webhook",
]
