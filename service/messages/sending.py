"""Sending messages from the delivery worker: at least once, never twice, never in quiet hours.

Each message is claimed in a short transaction of its own (pending → sending, with a lease), sent, then
recorded in another. A worker that dies between Notify's answer and the record loses nothing: after the lease
the message is due again, and the worker first asks Notify for a notification with its reference (the message
id) and sends only if there is none. Whether she may still be told is checked again at the moment of sending:
`none`, a withdrawn consent or an erased record withholds what is waiting."""

import random
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

import structlog
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from api_schemas.messages import ContactChannel, MessageKind, MessageStatus
from api_schemas.sessions import SessionStatus
from service.core import clock
from service.core.config import Settings
from service.matches import repository as matches_repository
from service.messages import composing, lifecycle, repository, texts
from service.models import Message, Referral, Volunteer
from service.programme import service as programme_service
from service.referrals import repository as referrals_repository
from service.volunteers import repository as volunteers_repository

log = structlog.get_logger("peer_match.messages")
LEASE = timedelta(minutes=5)
# Where Notify's callbacks are not set up (or one is lost), a sent message's status is asked for: first after
# POLL_AFTER, then hourly, for POLL_FOR (Notify gives a final status within 72 hours and keeps it for 7 days).
POLL_AFTER = timedelta(minutes=15)
POLL_EVERY = timedelta(hours=1)
POLL_FOR = timedelta(days=4)
MAX_ATTEMPTS = 8
BASE_DELAY_S = 30.0
MAX_DELAY_S = 6 * 3600.0
S = MessageStatus
RECEIPTS = {status.value: status for status in lifecycle.RECEIPTS}


class PermanentError(Exception):
    """Notify refused the message itself (an invalid number, say): sending it again cannot help."""


class TransientError(Exception):
    """Notify or the network failed this time: try again later."""


@dataclass(frozen=True)
class Outgoing:
    """What one send needs, read while the message was claimed."""

    reference: str
    channel: str
    to: str
    template_id: str | None
    personalisation: dict[str, str]
    kind: str
    # For channels that carry the text themselves (smtp): the email filled in; never logged.
    subject: str | None = None
    body: str | None = None


class Channel(Protocol):
    def send(self, outgoing: Outgoing) -> str:
        """Send; the provider's id for it. Raises PermanentError or TransientError."""

    def find(self, reference: str) -> str | None:
        """The provider's id of a notification already sent with this reference, or None."""

    def status(self, provider_id: str) -> str | None:
        """The provider's status for a notification (Notify's words), or None where it keeps none."""


def backoff(attempts: int, rng: random.Random = random.Random()) -> timedelta:
    step = min(BASE_DELAY_S * 2 ** (attempts - 1), MAX_DELAY_S)
    return timedelta(seconds=step * (0.5 + rng.random() / 2))


# The personalisation fields that name someone; the rest (format, date, time, place) say nothing of who.
PERSONAL_FIELDS = frozenset({"first_name", "other_first_name"})


def mask(value: str) -> str:
    """What a log line may show of a personal field: its first and last character and its length."""
    return value[:1] + "*" * max(len(value) - 2, 0) + value[-1:] if len(value) > 2 else "*" * len(value)


class LogChannel:
    """Development and the demo: one masked line per message, nothing leaves the machine."""

    def send(self, outgoing: Outgoing) -> str:
        log.info("message_would_send", **self.masked(outgoing))
        return ""  # nothing to ask about later

    @staticmethod
    def masked(outgoing: Outgoing) -> dict[str, object]:
        """What the log line shows: the number or address and the names masked, the email text left out."""
        return {
            "reference": outgoing.reference,
            "kind": outgoing.kind,
            "channel": outgoing.channel,
            "template_id": outgoing.template_id,
            "to": mask(outgoing.to),
            "personalisation": {
                key: mask(value) if key in PERSONAL_FIELDS else value for key, value in outgoing.personalisation.items()
            },
        }

    def find(self, reference: str) -> str | None:
        return None

    def status(self, provider_id: str) -> str | None:
        return None


class NotifyChannel:
    """GOV.UK Notify through its official client."""

    def __init__(self, api_key: str, base_url: str) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(api_key, base_url=base_url)

    def send(self, outgoing: Outgoing) -> str:
        if outgoing.template_id is None:
            raise PermanentError("no template for this kind and language")
        try:
            if outgoing.channel == ContactChannel.sms:
                response = self.client.send_sms_notification(
                    phone_number=outgoing.to,
                    template_id=outgoing.template_id,
                    personalisation=outgoing.personalisation,
                    reference=outgoing.reference,
                )
            else:
                response = self.client.send_email_notification(
                    email_address=outgoing.to,
                    template_id=outgoing.template_id,
                    personalisation=outgoing.personalisation,
                    reference=outgoing.reference,
                )
        except Exception as exc:
            raise _classified(exc) from None
        return str(response["id"])

    def find(self, reference: str) -> str | None:
        try:
            found = self.client.get_all_notifications(reference=reference)
        except Exception as exc:
            raise TransientError(_error_text(exc)) from None
        notifications = found.get("notifications", [])
        return str(notifications[0]["id"]) if notifications else None

    def status(self, provider_id: str) -> str | None:
        try:
            return str(self.client.get_notification_by_id(provider_id)["status"])
        except Exception as exc:
            raise TransientError(_error_text(exc)) from None


def _classified(exc: Exception) -> Exception:
    """Notify's 400 (a bad number or address, a missing personalisation field) cannot succeed on a retry; its
    403 (a revoked key), 429 and 5xx, and any network error, may."""
    status = getattr(exc, "status_code", None)
    if status == 400:
        return PermanentError(_error_text(exc))
    return TransientError(_error_text(exc))


def _error_text(exc: Exception) -> str:
    # Notify's error messages can quote the number or address it refused: digits and addresses are cut out.
    text = f"{type(exc).__name__} {getattr(exc, 'status_code', '')}".strip()
    return re.sub(r"[\w.+-]+@[\w.-]+|\+?\d[\d ]{5,}", "…", text)[:300]


class SmtpChannel:
    """Email through the programme's own mail server (smtplib), for programmes outside the public sector.

    It sends email only: a message to someone who chose SMS fails for good and the coordinator is told.
    A mail server keeps no record to ask, so a worker that died after the server took the message sends it
    again after the lease (at least once); both copies carry the same Message-ID, which mail clients use to
    show one. Nothing is polled: `sent` is the last status an SMTP message has."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        starttls: bool = True,
        user: str = "",
        password: str = "",
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.user, self.password = starttls, user, password
        self.tls_context, self.timeout = tls_context, timeout

    def send(self, outgoing: Outgoing) -> str:
        if outgoing.channel != ContactChannel.email or outgoing.subject is None or outgoing.body is None:
            raise PermanentError("the smtp channel sends email only")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = outgoing.to
        mail["Subject"] = outgoing.subject
        domain = self.sender.rpartition("@")[2] or "peer-match"
        mail["Message-ID"] = f"<{outgoing.reference}@{domain}>"
        mail.set_content(outgoing.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            # A 5xx for the address (no such mailbox) will not change on a retry; a 4xx (greylisting) may.
            codes = [code for code, _text in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentError(f"SMTPRecipientsRefused {codes[0]}") from None
            raise TransientError(f"SMTPRecipientsRefused {codes[0] if codes else ''}".strip()) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(_error_text(exc)) from None
        return ""  # nothing to ask about later

    def find(self, reference: str) -> str | None:
        return None

    def status(self, provider_id: str) -> str | None:
        return None


def channel_from(settings: Settings) -> Channel:
    if settings.message_channel == "notify":
        return NotifyChannel(settings.notify_api_key, settings.notify_base_url)
    if settings.message_channel == "smtp":
        return SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )
    return LogChannel()


class MessageSender:
    """The worker's message round: every message due, each in its own short transactions."""

    def __init__(self, channel: Channel, *, log_sends: bool = True) -> None:
        self.channel, self.log_sends = channel, log_sends

    def __call__(self, bind: Engine | Connection, *, limit: int = 100) -> int:
        """Send what is due; the number of messages handed to the channel."""
        with Session(bind) as db:
            due = repository.due_ids(db, now=clock.now(), limit=limit)
            polls = repository.due_polls(db, now=clock.now(), since=clock.now() - POLL_FOR, limit=limit)
        sent = sum(self.attempt(bind, message_id) for message_id in due)
        for message_id, provider_id in polls:
            self.poll(bind, message_id, provider_id)
        return sent

    def poll(self, bind: Engine | Connection, message_id: str, provider_id: str) -> None:
        """Ask the provider for a sent message's status; record a final one, else ask again later."""
        try:
            status = self.channel.status(provider_id)
        except TransientError:
            status = None
        with Session(bind) as db:
            message = repository.get(db, message_id)
            if message is None or message.status != S.sent:
                return
            target = RECEIPTS.get(status or "")
            if target is None:
                message.next_attempt_at = clock.now() + POLL_EVERY
                db.add(message)
            else:
                message.completed_at = clock.now()
                lifecycle.move(db, message, target)
            db.commit()

    def attempt(self, bind: Engine | Connection, message_id: str) -> int:
        with Session(bind, expire_on_commit=False) as db:
            claimed = self._claim(db, message_id)
            db.commit()
        if claimed is None:
            return 0
        outgoing, recovering = claimed
        try:
            provider_id = self.channel.find(outgoing.reference) if recovering else None
            if provider_id is None:
                provider_id = self.channel.send(outgoing)
            outcome, error = S.sent, None
        except PermanentError as exc:
            outcome, error, provider_id = S.permanent_failure, str(exc), None
        except TransientError as exc:
            outcome, error, provider_id = S.pending, str(exc), None
        with Session(bind) as db:
            self._record(db, message_id, outcome, provider_id=provider_id, error=error)
            db.commit()
        if self.log_sends:
            log.info("message_sent", kind=outgoing.kind, channel=outgoing.channel, outcome=outcome.value)
        return 1

    def _claim(self, db: Session, message_id: str) -> tuple[Outgoing, bool] | None:
        now = clock.now()
        message = repository.claim(db, message_id, now=now)
        if message is None:
            return None
        recovering = message.status == S.sending
        person = _recipient(db, message)
        reason = composing.why_not(person) if person is not None else "erased"
        reason = reason or _stale(db, message)
        if reason is not None:
            message.withheld_reason = reason
            message.completed_at = now
            lifecycle.move(db, message, S.withheld)
            return None
        assert person is not None
        programme = programme_service.current(db)
        allowed = composing.allowed_from(now, programme, composing.preferences(person))
        if allowed > now:
            # Quiet hours began while it waited (a retry, a worker that was down): it waits for the morning.
            message.next_attempt_at = allowed
            if recovering:
                lifecycle.move(db, message, S.pending)
            db.add(message)
            return None
        if not recovering:
            lifecycle.move(db, message, S.sending)
        message.attempts += 1
        message.next_attempt_at = now + LEASE
        db.add(message)
        channel = ContactChannel(message.channel)
        to = person.phone if channel is ContactChannel.sms else person.email
        # The channel she chose may have changed since: the message goes where she asks now.
        current = composing.preferences(person).channel
        if current is not channel:
            channel, to = current, person.phone if current is ContactChannel.sms else person.email
        assert to is not None
        fields = dict(message.personalisation)
        subject = body = None
        if channel is ContactChannel.email:
            sensitive = composing.is_sensitive(programme, person)
            subject, body = texts.render(
                programme, MessageKind(message.kind), message.language, fields, sensitive=sensitive
            )
        return (
            Outgoing(
                reference=message.id,
                channel=channel.value,
                to=to,
                template_id=message.template_id,
                personalisation=fields,
                kind=message.kind,
                subject=subject,
                body=body,
            ),
            recovering,
        )

    def _record(self, db: Session, message_id: str, outcome: S, *, provider_id: str | None, error: str | None) -> None:
        message = repository.get(db, message_id)
        if message is None:
            return
        now = clock.now()
        if provider_id and message.notify_id is None:
            message.notify_id = provider_id
        if message.status != S.sending:
            # Notify's receipt arrived first and moved it on; the id above is all there is to add.
            db.add(message)
            return
        message.last_error = error
        if outcome is S.sent:
            message.sent_at = now
            message.next_attempt_at = now + POLL_AFTER
            lifecycle.move(db, message, S.sent)
        elif outcome is S.permanent_failure:
            message.completed_at = now
            lifecycle.move(db, message, S.permanent_failure)
        elif message.attempts >= MAX_ATTEMPTS:
            message.completed_at = now
            lifecycle.move(db, message, S.technical_failure)
        else:
            message.next_attempt_at = now + backoff(message.attempts)
            lifecycle.move(db, message, S.pending)


def _recipient(db: Session, message: Message) -> Referral | Volunteer | None:
    if message.recipient_type == composing.PARENT:
        return referrals_repository.get(db, message.recipient_id)
    return volunteers_repository.get(db, message.recipient_id)


def _stale(db: Session, message: Message) -> str | None:
    """A reminder whose session was cancelled, moved or has begun is not sent (the change has its own message);
    nor a "we missed you" once the match has ended or is paused, nor a check-in prompt once the visit is over
    or no longer planned (it waited out quiet hours, or the worker was down)."""
    if message.kind == MessageKind.missed_you and message.match_id is not None:
        match = matches_repository.get(db, message.match_id)
        return None if match is not None and composing.still_on(match) else "match_not_running"
    if message.kind == MessageKind.check_in_prompt and message.session_id is not None:
        visit = matches_repository.get_session(db, message.session_id)
        if visit is None or visit.status != SessionStatus.planned or visit.ends_at <= clock.now():
            return "session_changed"
        return None
    if message.kind != MessageKind.session_reminder or message.session_id is None:
        return None
    session = matches_repository.get_session(db, message.session_id)
    if session is None or session.status != SessionStatus.planned or session.starts_at <= clock.now():
        return "session_changed"
    if composing.when(session, programme_service.current(db), message.language) != {
        key: message.personalisation.get(key) for key in ("date", "time")
    }:
        return "session_changed"
    return None
