"""Email to an account's owner: what the API tells people outside a response (an attempt to
register their address, repeated failed sign-ins to their account).

The ways out, each standard-library or AWS SDK: on AWS, Amazon SES (`SesMailer`, the
environment's domain is its verified identity); locally, SMTP to the mail catcher `hp up`
runs on 127.0.0.1 (`SmtpMailer`; local/smtp_sink.py keeps what it is sent in
`<state>/mail`), or that Maildir folder written directly (`MaildirMailer`, for the API's
tests, which run no catcher). Any mail reader opens the folder (`mutt -f <folder>`).

A message is sent beside the response (`Outbox.send_later`), so whether one is sent, and
how long that takes, never shows in the answer, an error answer included (a route's
BackgroundTasks run only after a success); a failure to send is logged, never raised."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mailbox
import smtplib
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

from anyio import CapacityLimiter, to_thread
from redis.asyncio import Redis

from health_platform.contract import ApiSettings

log = logging.getLogger("health_platform.api.mail")


# Threads of their own for sending, so a slow or hung mail service never holds the ones
# Argon2 and the password checks run in; and short SES timeouts, so none is held long.
MAIL_THREADS = 4
SES_TIMEOUTS = {"connect_timeout": 3, "read_timeout": 5, "retries": {"max_attempts": 2}}
SMTP_TIMEOUT_SECONDS = 5
# One message of a kind to one address per this many seconds: no one can fill an owner's
# inbox by registering their address or failing to sign in to it again and again.
ONCE_PER_SECONDS = 3600


class Mailer(Protocol):
    def deliver(self, to: str, subject: str, body: str) -> None:
        """Send one message; blocking (the Outbox calls it in a thread)."""


class MaildirMailer:
    def __init__(self, folder: str, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def deliver(self, to: str, subject: str, body: str) -> None:
        open_maildir(self.folder).add(message(self.sender, to, subject, body))


def open_maildir(folder: Path) -> mailbox.Maildir:
    """The Maildir at `folder`, made if need be (mailbox makes one only where nothing is),
    private to its owner: it holds account owners' addresses."""
    for part in ("", "tmp", "new", "cur"):
        (folder / part).mkdir(parents=True, exist_ok=True, mode=0o700)
    return mailbox.Maildir(folder, create=False)


class SmtpMailer:
    """To an SMTP server of this machine: the local mail catcher, which relays nothing."""

    def __init__(self, port: int, sender: str) -> None:
        self.port = port
        self.sender = sender

    def deliver(self, to: str, subject: str, body: str) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(message(self.sender, to, subject, body))


class SesMailer:
    def __init__(self, sender: str) -> None:
        import boto3  # the AWS image has it; the local platform never loads it
        from botocore.config import Config

        self.sender = sender
        self.client = boto3.client("sesv2", config=Config(**SES_TIMEOUTS))

    def deliver(self, to: str, subject: str, body: str) -> None:
        self.client.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [to]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                }
            },
        )


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, to, subject
    email["Date"] = formatdate(usegmt=True)
    email.set_content(body)
    return email


def mailer_for(settings: ApiSettings) -> Mailer:
    if settings.mail_backend == "ses":
        return SesMailer(settings.mail_from)
    if settings.mail_backend == "smtp":
        return SmtpMailer(settings.smtp_port, settings.mail_from)
    return MaildirMailer(settings.mail_dir, settings.mail_from)


class Outbox:
    """Sends in tasks of their own, kept until done (the loop holds tasks only weakly), at
    most one message of a kind (its subject) to an address per ONCE_PER_SECONDS."""

    def __init__(self, mailer: Mailer, redis: Redis) -> None:
        self.mailer = mailer
        self.redis = redis
        self._sending: set[asyncio.Task[None]] = set()
        self._threads: CapacityLimiter | None = None  # made on the serving loop

    def send_later(self, to: str, notice: tuple[str, str]) -> None:
        """Send `notice` beside the response, unless one of its kind went to `to` lately."""
        self._task(self._send(to, *notice, claimed=False))

    async def claim(self, to: str, subject: str) -> bool:
        """Take the one message of the kind `to` may get now; False when one went lately.
        For a message whose making has a cost of its own (a link that ends the last one)."""
        kind = hashlib.sha256(subject.encode()).hexdigest()[:12]
        recipient = hashlib.sha256(to.lower().encode()).hexdigest()
        slot = f"mail:{recipient}:{kind}"
        return bool(await self.redis.set(slot, "1", nx=True, ex=ONCE_PER_SECONDS))

    def send_claimed_later(self, to: str, notice: tuple[str, str]) -> None:
        """Send `notice`, whose slot `claim` took, beside the response."""
        self._task(self._send(to, *notice, claimed=True))

    def _task(self, sending: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(sending)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, to: str, subject: str, body: str, *, claimed: bool) -> None:
        if self._threads is None:
            self._threads = CapacityLimiter(MAIL_THREADS)
        try:
            if claimed or await self.claim(to, subject):
                await to_thread.run_sync(
                    self.mailer.deliver, to, subject, body, limiter=self._threads
                )
        except Exception as failed:  # an unsent notice must not become an error anywhere
            log.error(
                "mail not sent",
                extra={
                    "event": "mail.failed",
                    "about": subject,  # never the address
                    "error_type": type(failed).__name__,
                },
            )

    async def close(self) -> None:
        """Let the messages being sent go."""
        await asyncio.gather(*self._sending, return_exceptions=True)
