"""Liveness, readiness and metrics for the platform that runs the service."""

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.core import migrate
from service.core.errors import Unauthorized
from service.core.problems import unavailable

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable or migrations not current"}})
def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.is_current(engine)
    except SQLAlchemyError:
        return unavailable("The database cannot be reached.")
    if not current:
        return unavailable("Database migrations are not current; run `peer-match migrate`.")
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token and not hmac.compare_digest(request.headers.get("authorization", ""), f"Bearer {token}"):
        raise Unauthorized("GET /metrics needs the metrics token (PEER_MATCH_METRICS_TOKEN) as a bearer token.")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
