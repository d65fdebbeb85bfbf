"""API keys: shown once, stored as a SHA-256 hash, one role each, revocable."""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam
from sqlmodel import Session, select

from service.core import clock
from service.core.errors import Unauthorized
from service.core.ids import new_id
from service.models import ApiKey


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    integrator = "integrator"
    volunteer = "volunteer"


# The source of referrals entered by coordinators. No integrator may take this name: it would see them all.
COORDINATOR_SOURCE = "coordinator"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    source: str | None = None
    volunteer_id: str | None = None
    safeguarding_lead: bool = False  # a coordinator designated to receive and handle safeguarding concerns

    @property
    def referral_source(self) -> str:
        """The source a referral posted by this caller belongs to."""
        return self.source if self.role is Role.integrator and self.source else COORDINATOR_SOURCE


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough; a slow KDF would only cost latency.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    db: Session,
    *,
    name: str,
    role: Role,
    source: str | None = None,
    volunteer_id: str | None = None,
    safeguarding_lead: bool = False,
) -> tuple[ApiKey, str]:
    if role is Role.integrator and not source:
        raise ValueError("an integrator key needs a source name")
    if role is Role.integrator and source == COORDINATOR_SOURCE:
        raise ValueError(f"'{COORDINATOR_SOURCE}' is reserved for referrals entered by coordinators")
    if role is Role.volunteer and not volunteer_id:
        raise ValueError("a volunteer key needs a volunteer id")
    if safeguarding_lead and role is not Role.coordinator:
        raise ValueError("only a coordinator key can be a safeguarding lead")
    secret = "pm_" + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id(),
        name=name,
        role=role.value,
        source=source if role is Role.integrator else None,
        volunteer_id=volunteer_id if role is Role.volunteer else None,
        safeguarding_lead=safeguarding_lead,
        secret_hash=hash_secret(secret),
        prefix=secret[:10],
        created_at=clock.now(),
    )
    db.add(key)
    return key, secret


# Every request asks this: a statement built once, reading columns rather than loading an ORM object.
_keys = ApiKey.__table__.c  # type: ignore[attr-defined]
_KEY_BY_HASH = select(
    _keys.id, _keys.role, _keys.source, _keys.volunteer_id, _keys.safeguarding_lead, _keys.revoked_at
).where(_keys.secret_hash == bindparam("secret_hash"))


def authenticate(db: Session, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized()
    secret = authorization[7:].strip()
    if not secret or len(secret) > 200:
        raise Unauthorized()
    key = db.connection().execute(_KEY_BY_HASH, {"secret_hash": hash_secret(secret)}).first()
    if key is None or key.revoked_at is not None:
        raise Unauthorized("The API key is not valid or has been revoked.")
    return Principal(
        key_id=key.id,
        role=Role(key.role),
        source=key.source,
        volunteer_id=key.volunteer_id,
        safeguarding_lead=bool(key.safeguarding_lead),
    )


def revoke(db: Session, key_id: str) -> bool:
    key = db.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = clock.now()
    db.add(key)
    return True


def all_keys(db: Session) -> list[ApiKey]:
    """Every key, oldest first, for `peer-match keys list` (secrets are never stored, only their hashes)."""
    return list(db.exec(select(ApiKey).order_by(ApiKey.created_at)))


def safeguarding_leads(db: Session) -> list[str]:
    """The ids of the live coordinator keys flagged as safeguarding leads: a concern alerts each of them."""
    query = select(ApiKey.id).where(
        ApiKey.role == Role.coordinator.value,
        ApiKey.safeguarding_lead == True,  # noqa: E712 (a SQL expression)
        ApiKey.revoked_at == None,  # noqa: E711
    )
    return list(db.exec(query.order_by(ApiKey.created_at)))


def coordinators_on_duty(db: Session) -> list[str]:
    """The coordinator keys an urgent alert goes to: the safeguarding leads, or every live coordinator key when
    the programme has flagged none (an alert about someone's safety must reach somebody)."""
    leads = safeguarding_leads(db)
    if leads:
        return leads
    query = select(ApiKey.id).where(
        ApiKey.role == Role.coordinator.value,
        ApiKey.revoked_at == None,  # noqa: E711
    )
    return list(db.exec(query.order_by(ApiKey.created_at)))
