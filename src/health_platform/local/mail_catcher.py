"""The local platform's mail catcher: the Maildir the API delivers to (api/mail.py's
MaildirMailer), read back for `hp mail local` and for tests, newest first."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from health_platform.api.mail import open_maildir


@dataclass(frozen=True)
class Caught:
    to: str
    subject: str
    date: datetime
    body: str


def caught(folder: Path, to: str | None = None) -> list[Caught]:
    """The messages in `folder` (to `to` only, when given), newest first: in the order they
    were delivered (the Maildir's file times, finer than the Date header's whole seconds;
    a Maildir lists its files in no set order)."""
    if not folder.is_dir():
        return []
    found: list[tuple[float, Caught]] = []
    for message in open_maildir(folder):
        if to is not None and message["To"].lower() != to.lower():
            continue
        sent = message["Date"]
        date = (
            email.utils.parsedate_to_datetime(sent)
            if sent
            else datetime.fromtimestamp(message.get_date(), UTC)
        )
        payload = message.get_payload(decode=True)
        body = payload.decode() if isinstance(payload, bytes) else str(message.get_payload())
        found.append((message.get_date(), Caught(message["To"], message["Subject"], date, body)))
    return [m for _, m in sorted(found, key=lambda pair: pair[0], reverse=True)]
