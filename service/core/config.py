"""Settings, read once from the environment (prefix PEER_MATCH_)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEER_MATCH_", env_file=".env", extra="ignore")

    environment: str = Field("development", pattern="^(development|test|production)$")
    data_dir: Path = Path("data")
    database_url: str = ""
    # Requests one process works on at once; the others wait their turn. The database pool holds one more
    # connection (the delivery worker's). On 2 cores, 2 gave the shortest tail at 320 posts a second, once a post
    # cost less CPU (docs/decisions/0005-requests-at-once.md).
    requests_at_once: int = Field(2, ge=1, le=64)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    log_level: str = "INFO"
    # The address people's links use (docs, calendar feeds); by default the host and port it listens on.
    public_base_url: str = ""
    run_worker_in_app: bool = True
    allow_private_webhooks: bool = False
    # Per API key and per worker process (the window is in memory); 0 turns the limit off.
    rate_limit_per_minute: int = Field(1200, ge=0)
    # A `limits` storage URI: memory:// counts per worker process; redis://… or memcached://… across them all;
    # `database` across them all in the service's own PostgreSQL (no other service to run).
    rate_limit_storage: str = "memory://"
    # When set, GET /metrics needs `Authorization: Bearer <this>`: request counts by route are operational data.
    metrics_token: str = ""
    # Browser front ends on other origins allowed to call the API (CORS), e.g. ["https://cases.example.org"];
    # none by default. As an environment variable, a JSON list.
    cors_origins: list[str] = Field(default_factory=list)
    # Messages to parents and volunteers: `log` (the default) writes what would be sent, masked; `notify` sends
    # through GOV.UK Notify with this API key. Notify's delivery receipts carry `callback_token` as a bearer.
    message_channel: str = Field("log", pattern="^(log|notify|smtp)$")
    notify_api_key: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_callback_token: str = ""
    # `smtp`: email through the programme's own mail server (text from the programme's email_texts or the
    # built-in neutral ones); it sends no SMS. STARTTLS is on unless turned off for a server on localhost.
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    # Background work on PostgreSQL runs on a job queue (procrastinate; docs/decisions/0023-job-queue.md): jobs
    # one worker process runs at once, and how often the scans and the relay (webhooks, messages) run, once per
    # period across every worker. Seconds, each a divisor of 60.
    worker_concurrency: int = Field(4, ge=1, le=32)
    scan_every_s: int = Field(30, ge=1, le=60)
    relay_every_s: int = Field(2, ge=1, le=60)
    # `peer-match worker` lowers its own CPU priority by this much (nice): a national match run in a worker
    # sharing a machine with the API then takes only the CPU requests leave (docs/benchmarks.md, issue 23).
    worker_nice: int = Field(10, ge=0, le=19)
    # A match run as a job solves on a thread of the idle scheduling class (SCHED_IDLE): it takes only CPU
    # that nothing else wants, so requests, deliveries and scans on the same machine go first. Under a load
    # that keeps every core busy for 10 minutes the run makes no progress and the stuck scan fails it: set
    # false to have it share the CPU (at `worker_nice`) instead. docs/decisions/0027.
    run_on_idle_cpu: bool = True

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite:///{(self.data_dir / 'peer-match.sqlite3').resolve()}"
        if not self.public_base_url:
            shown = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            self.public_base_url = f"http://{shown}:{self.port}"
        if self.message_channel == "notify" and not self.notify_api_key:
            raise ValueError("PEER_MATCH_NOTIFY_API_KEY is needed for the notify message channel")
        if self.message_channel == "smtp" and not (self.smtp_host and self.smtp_from):
            raise ValueError("PEER_MATCH_SMTP_HOST and PEER_MATCH_SMTP_FROM are needed for the smtp message channel")
        for name in ("scan_every_s", "relay_every_s"):
            if 60 % getattr(self, name):
                raise ValueError(f"PEER_MATCH_{name.upper()} must divide 60")
        if self.environment == "production" and self.public_base_url.startswith("http://"):
            raise ValueError("PEER_MATCH_PUBLIC_BASE_URL must be https in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_job_queue(self) -> bool:
        """Background work goes through procrastinate on PostgreSQL; SQLite keeps the in-process loop and runner.
        The test environment keeps them too: a test picks its own runner, and no worker would take the jobs."""
        return not self.is_sqlite and self.environment != "test"


@lru_cache
def get_settings() -> Settings:
    return Settings()
