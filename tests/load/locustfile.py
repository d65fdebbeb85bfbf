"""The load scenario (`python -m tests.load.run` starts the service and runs it): integrators posting
referrals, volunteers reading their schedules, coordinators listing waiting referrals and running matches.

Keys come from the JSON file named by PEER_MATCH_LOAD_KEYS, written by the runner; PEER_MATCH_LOAD_POST_RATE is
the referral posts a second all integrators together offer."""

import itertools
import json
import os
import random
import time
import uuid
from typing import Any

import gevent
from locust import FastHttpUser, between, events, task

from tests.load import trace
from tests.load.bodies import referral

KEYS: dict[str, Any] = json.loads(open(os.environ["PEER_MATCH_LOAD_KEYS"]).read())  # noqa: SIM115
_integrators = itertools.cycle(KEYS["integrators"])
_volunteers = itertools.cycle(KEYS["volunteers"])
INTEGRATORS = 40
POST_RATE = float(os.environ.get("PEER_MATCH_LOAD_POST_RATE", "320"))
# The floor phase of the runner posts the same bodies to the floor endpoint (tests/load/floor.py).
POST_PATH = os.environ.get("PEER_MATCH_LOAD_POST_PATH", "/v1/referrals")
MATCH_RUNS = os.environ.get("PEER_MATCH_LOAD_MATCH_RUNS", "1") != "0"
if trace.TRACE_DIR:
    events.init.add_listener(lambda environment, **_kwargs: trace.record_client(environment))


class Integrator(FastHttpUser):
    """A referring system posting referrals as they come, each with its own Idempotency-Key."""

    weight = INTEGRATORS

    def on_start(self) -> None:
        # Referring systems post now and then, each on a new connection; it also lets whichever uvicorn worker
        # is free take the next one, where kept-alive connections stay with the worker that took them first.
        self.headers = {"Authorization": f"Bearer {next(_integrators)}", "Connection": "close"}
        self.count = 0
        self.next_post = time.monotonic() + random.expovariate(POST_RATE / INTEGRATORS)
        gevent.sleep(max(0.0, self.next_post - time.monotonic()))

    def wait_time(self) -> float:
        # Referrals reach each system independently, so its posts are a Poisson stream and all of them together
        # one at POST_RATE. Times are kept from a schedule, not from the end of the last post, so a slow answer
        # does not lower the rate offered. (locust's constant_throughput timed every user from its start and
        # cancelled any offset: all 40 posted within the same 10 ms, 8 times a second.)
        self.next_post += random.expovariate(POST_RATE / INTEGRATORS)
        return max(0.0, self.next_post - time.monotonic())

    @task
    def post_referral(self) -> None:
        self.count += 1
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        self.client.post(POST_PATH, json=referral(self.count), headers=headers, name="POST /v1/referrals")


class Volunteer(FastHttpUser):
    """A volunteer's app reading her schedule and her record."""

    weight = 8
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(_volunteers)}"}

    @task(3)
    def sessions(self) -> None:
        self.client.get("/v1/me/sessions", headers=self.headers, name="GET /v1/me/sessions")

    @task(1)
    def me(self) -> None:
        self.client.get("/v1/me", headers=self.headers, name="GET /v1/me")


class Coordinator(FastHttpUser):
    """A case-management front end: lists of waiting referrals, now and then a match run."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {KEYS['coordinator']}"}

    @task(10)
    def waiting(self) -> None:
        self.client.get(
            "/v1/referrals?status=waiting&limit=50", headers=self.headers, name="GET /v1/referrals?status=waiting"
        )

    @task(1)
    def match_run(self) -> None:
        if not MATCH_RUNS:
            self.waiting()
            return
        referral_ids = [
            r["id"]
            for r in self.client.get(
                "/v1/referrals?status=waiting&limit=20", headers=self.headers, name="GET /v1/referrals?status=waiting"
            )
            .json()
            .get("items", [])
        ]
        if referral_ids:
            # Two coordinators race: a run started while the other's is under way is 409 naming it (one run at a
            # time per programme), and one over referrals the other's run has just proposed is 409 too. Both
            # are the service answering correctly, not failures.
            with self.client.post(
                "/v1/match-runs?wait=true",
                json={"referral_ids": referral_ids},
                headers=self.headers,
                name="POST /v1/match-runs",
                catch_response=True,
            ) as response:
                if response.status_code == 409 and "problem+json" in response.headers.get("content-type", ""):
                    response.success()
