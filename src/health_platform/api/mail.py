"""Email to an account's owner: what the API tells people outside a response (an attempt to
register their address, repeated failed sign-ins to their account).

Two ways out, both standard-library or AWS SDK: on AWS, Amazon SES (`SesMailer`, the
environment's domain is its verified identity); locally, a Maildir folder
(`MaildirMailer`, `<state>/mail`), which any mail reader opens (`mutt -f <folder>`).

A message is sent beside the response (`Outbox.send_later`), so whether one is sent, and
how long that takes, never shows in the answer, an error answer included (a route's
BackgroundTasks run only after a success); a failure to send is logged, never raised."""

from __future__ import annotations

import asyncio
import logging
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from anyio import to_thread

from health_platform.contract import ApiSettings

log = logging.getLogger("health_platform.api.mail")


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


class MaildirMailer:
    def __init__(self, folder: str, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        await to_thread.run_sync(self._deliver, message(self.sender, to, subject, body))

    def _deliver(self, email: EmailMessage) -> None:
        open_maildir(self.folder).add(email)


def open_maildir(folder: Path) -> mailbox.Maildir:
    """The Maildir at `folder`, made if need be (mailbox makes one only where nothing is),
    private to its owner: it holds account owners' addresses."""
    for part in ("", "tmp", "new", "cur"):
        (folder / part).mkdir(parents=True, exist_ok=True, mode=0o700)
    return mailbox.Maildir(folder, create=False)


class SesMailer:
    def __init__(self, sender: str) -> None:
        import boto3  # the AWS image has it; the local platform never loads it

        self.sender = sender
        self.client = boto3.client("sesv2")

    async def send(self, to: str, subject: str, body: str) -> None:
        await to_thread.run_sync(self._deliver, to, subject, body)

    def _deliver(self, to: str, subject: str, body: str) -> None:
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
    email.set_content(body)
    return email


def mailer_for(settings: ApiSettings) -> Mailer:
    if settings.mail_backend == "ses":
        return SesMailer(settings.mail_from)
    return MaildirMailer(settings.mail_dir, settings.mail_from)


class Outbox:
    """Sends in tasks of their own, kept until done (the loop holds tasks only weakly)."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self._sending: set[asyncio.Task[None]] = set()

    def send_later(self, to: str, subject: str, body: str, *, about: str) -> None:
        """`about`: what the message is, for the log line (the address is not logged)."""
        task = asyncio.create_task(self._send(to, subject, body, about))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, to: str, subject: str, body: str, about: str) -> None:
        try:
            await self.mailer.send(to, subject, body)
        except Exception as failed:  # an unsent notice must not become an error anywhere
            log.error(
                "mail not sent",
                extra={"event": "mail.failed", "about": about, "error_type": type(failed).__name__},
            )

    async def close(self) -> None:
        """Let the messages being sent go."""
        await asyncio.gather(*self._sending, return_exceptions=True)
