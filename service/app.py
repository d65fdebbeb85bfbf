"""The FastAPI application: routers, error handlers, middleware, and the database engine on app.state."""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from sqlalchemy.orm import configure_mappers

from service.concerns.endpoints import me_router as my_concerns_router
from service.concerns.endpoints import reviews_router as risk_reviews_router
from service.concerns.endpoints import router as concerns_router
from service.contacts.endpoints import router as contacts_router
from service.core import logs, middleware, openapi
from service.core.auth import RecentKeys
from service.core.config import Settings, get_settings
from service.core.db import make_engine
from service.core.problems import install_handlers
from service.core.rate_limit import KeyRateLimiter
from service.erasure.endpoints import router as erasure_router
from service.events.endpoints import router as events_router
from service.events.worker import DeliveryWorker
from service.fhir.endpoints import OperationOutcomes
from service.fhir.endpoints import router as fhir_router
from service.jobs import PERIODIC_JOBS, on_job_queue, senders
from service.match_runs.endpoints import router as match_runs_router
from service.matches.endpoints import router as matches_router
from service.matches.endpoints import sessions_router
from service.matches.endpoints import visits_router as lone_working_router
from service.me.endpoints import calendar_router
from service.me.endpoints import router as me_router
from service.messages.endpoints import router as messages_router
from service.ops.endpoints import router as ops_router
from service.programme.endpoints import router as programme_router
from service.referrals import direct_post
from service.referrals.endpoints import measures_router
from service.referrals.endpoints import router as referrals_router
from service.reports.endpoints import page_router as report_page_router
from service.reports.endpoints import router as reports_router
from service.venues.endpoints import router as venues_router
from service.vocabulary.endpoints import router as vocabulary_router
from service.volunteers.endpoints import router as volunteers_router

DESCRIPTION = """Matches parents with perinatal mental health difficulties to trained, checked, supervised
volunteer peer supporters, plans their weekly sessions and their endings. Errors are RFC 9457 problem details."""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    logs.configure(settings.log_level)
    engine = engine or make_engine(settings)
    # The ORM configures its mappers at the first ORM query; the referral post's fast path makes none, so a
    # process whose first request was a post failed it (tests/service/test_fresh_worker.py). Configure them now.
    configure_mappers()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.uses_job_queue:
            async with on_job_queue(settings, engine):
                yield
            engine.dispose()
            return
        stop = threading.Event()
        thread = None
        if settings.run_worker_in_app:
            worker = DeliveryWorker(
                engine,
                allow_private=settings.allow_private_webhooks,
                periodic=PERIODIC_JOBS,
                senders=senders(settings),
            )
            thread = threading.Thread(target=worker.run_until, args=(stop,), name="delivery-worker", daemon=True)
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=15)
        engine.dispose()

    # The docs pages load Swagger UI and ReDoc from the service itself (fastapi-offline ships them), not from a
    # CDN: a coordinator's machine or a hospital network without internet still gets working docs.
    app = FastAPIOffline(title="peer-match", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.engine = engine
    app.state.settings = settings
    app.state.rate_limiter = KeyRateLimiter(
        settings.rate_limit_per_minute, settings.rate_limit_storage, settings.database_url
    )
    app.state.recent_keys = RecentKeys()
    install_handlers(app)
    middleware.install(
        app,
        max_body_bytes=settings.max_body_bytes,
        max_requests_at_once=settings.requests_at_once,
        cors_origins=settings.cors_origins,
    )
    app.add_middleware(OperationOutcomes)
    for router in (
        ops_router,
        vocabulary_router,
        programme_router,
        referrals_router,
        volunteers_router,
        me_router,
        events_router,
        measures_router,
        match_runs_router,
        matches_router,
        sessions_router,
        calendar_router,
        reports_router,
        erasure_router,
        concerns_router,
        my_concerns_router,
        risk_reviews_router,
        messages_router,
        fhir_router,
        venues_router,
        lone_working_router,
        contacts_router,
        report_page_router,
    ):
        app.include_router(router)
    direct_post.install(app)
    openapi.install(app)
    return app
