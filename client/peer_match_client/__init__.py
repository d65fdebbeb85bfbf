"""A typed Python client for the peer-match API, sync (`PeerMatch`) and asyncio (`AsyncPeerMatch`)."""

__version__ = "0.1.0"

from peer_match_client._calls import MatchView, ReferralView, Tagged
from peer_match_client.aio import AsyncPeerMatch
from peer_match_client.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
    ProblemError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from peer_match_client.retries import NO_RETRY, Retry
from peer_match_client.sync import PeerMatch
from peer_match_client.webhooks import WebhookVerificationError, sign, verify, verify_legacy

__all__ = [
    "NO_RETRY",
    "AsyncPeerMatch",
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "MatchView",
    "NotFoundError",
    "PeerMatch",
    "PreconditionFailedError",
    "ProblemError",
    "RateLimitedError",
    "ReferralView",
    "Retry",
    "ServiceUnavailableError",
    "Tagged",
    "UnauthorizedError",
    "WebhookVerificationError",
    "__version__",
    "sign",
    "verify",
    "verify_legacy",
]
