"""API keys: shown once, stored as a SHA-256 hash, one role each, revocable."""

import hashlib
import secrets
import time
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import bindparam, exists
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
    # Taken from this process's memory of keys (RecentKeys) without asking the database whether it has been revoked
    # since: the route checks that in the statement that writes its work (KEY_IS_LIVE), and a refusal checks it
    # before answering (check_live), so a revoked key is refused as at once as when each request looked it up.
    unchecked: bool = False

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


# True while the key named by the bound parameter `live_key_id` exists and is not revoked: asked in the same
# statement as a write made for a principal taken from memory, so that a revoked key writes nothing.
KEY_IS_LIVE = exists(select(_keys.id).where(_keys.id == bindparam("live_key_id"), _keys.revoked_at.is_(None)))


def secret_hash(authorization: str | None) -> str:
    """The hash of the secret an Authorization header carries; 401 when it carries none that could be a key."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized()
    secret = authorization[7:].strip()
    if not secret or len(secret) > 200:
        raise Unauthorized()
    return hash_secret(secret)


def authenticate(db: Session, authorization: str | None) -> Principal:
    return look_up(db, secret_hash(authorization))


def look_up(db: Session, hashed: str) -> Principal:
    key = db.connection().execute(_KEY_BY_HASH, {"secret_hash": hashed}).first()
    if key is None or key.revoked_at is not None:
        raise Unauthorized("The API key is not valid or has been revoked.")
    return Principal(
        key_id=key.id,
        role=Role(key.role),
        source=key.source,
        volunteer_id=key.volunteer_id,
        safeguarding_lead=bool(key.safeguarding_lead),
    )


def check_live(db: Session, principal: Principal) -> None:
    """401 if the key has been revoked (or erased) since it was taken from memory."""
    if not principal.unchecked:
        return
    if not db.connection().execute(select(KEY_IS_LIVE), {"live_key_id": principal.key_id}).scalar():
        raise Unauthorized("The API key is not valid or has been revoked.")


class RecentKeys:
    """The keys this process authenticated in the last `ttl` seconds, by the hash of their secret.

    A route that checks the key in the statement writing its work (the referral post, with KEY_IS_LIVE) takes its
    caller from here, which spares it a round trip to the database and a trip through the thread pool: about a
    sixth of a post's CPU (docs/decisions/0029). Every other route still looks its key up at each request. A key
    revoked in another process stays here until it expires, but is refused at once all the same: the write finds
    it revoked and writes nothing, and any other answer checks it first (check_live). One per app; a key the
    database no longer knows is forgotten as soon as a check finds it so."""

    def __init__(self, ttl_seconds: float = 60.0, size: int = 4096) -> None:
        self.ttl = ttl_seconds
        self.size = size
        self._keys: dict[str, tuple[float, Principal]] = {}

    def get(self, hashed: str) -> Principal | None:
        found = self._keys.get(hashed)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del self._keys[hashed]
            return None
        return found[1]

    def remember(self, hashed: str, principal: Principal) -> None:
        if len(self._keys) >= self.size:
            del self._keys[next(iter(self._keys))]  # the oldest
        self._keys[hashed] = (time.monotonic() + self.ttl, replace(principal, unchecked=True))

    def forget(self, key_id: str) -> None:
        for hashed in [h for h, (_, principal) in self._keys.items() if principal.key_id == key_id]:
            del self._keys[hashed]


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
