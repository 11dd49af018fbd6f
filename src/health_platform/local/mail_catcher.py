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
    """The messages in `folder` (to `to` only, when given), newest first."""
    if not folder.is_dir():
        return []
    found = []
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
        found.append(Caught(message["To"], message["Subject"], date, body))
    return sorted(found, key=lambda m: m.date, reverse=True)
