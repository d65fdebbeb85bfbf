"""The floor a referral post is judged against (issue 25): a bare endpoint in the same app, behind the same
middleware, taking the request's database session (the same dependency, pool and driver) and making one
INSERT, with no auth, no validation and nothing else. A post's server CPU divided by the floor's holds from
machine to machine where milliseconds do not.

The load scenario serves `tests.load.floor_app:app` (the service as `service.main:app`, with the floor added);
`tests.load.post_cpu` adds it to its own copy."""

import uuid
from typing import Any

from fastapi import Response
from sqlalchemy import Engine, text

from service.core.deps import SessionDep
from service.referrals.endpoints import router as referrals

PATH = "/load-floor"


def add_floor(app: Any) -> None:
    """The floor endpoint, on a measuring copy of the app only."""

    @app.post(PATH, include_in_schema=False)
    def floor(db: SessionDep) -> Response:
        db.connection().execute(
            text("INSERT INTO load_floor (id, at) VALUES (:id, CURRENT_TIMESTAMP)"), {"id": uuid.uuid4().hex}
        )
        return Response(status_code=201)

    # Routes are matched in order, and the app's are many: at the end of the list the floor paid ~0.4 ms a
    # request more to be found than the post does (session 32), which flattered the post's ratio. It sits where
    # the referrals' routes are, so both pay the same to be routed.
    floor_route = app.router.routes.pop()
    place = next(i for i, route in enumerate(app.router.routes) if getattr(route, "original_router", None) is referrals)
    app.router.routes.insert(place, floor_route)


def create_table(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS load_floor (id varchar(32) PRIMARY KEY, at timestamp)"))
