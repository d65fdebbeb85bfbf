from sqlmodel import Session

from service.models import Referral
from service.referrals import repository as referral_repository


def by_identifier(db: Session, source: str, value: str) -> Referral | None:
    """The referral this source sent with this ServiceRequest identifier (its external id)."""
    return referral_repository.by_external_id(db, source, value)
