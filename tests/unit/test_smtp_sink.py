"""The local mail catcher: what the API sends over SMTP is kept whole in the Maildir that
`hp mail local` reads, and a message larger than the catcher's limit is refused."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from health_platform.api.mail import MaildirMailer, SmtpMailer, mailer_for
from health_platform.contract import ApiSettings
from health_platform.local.mail_catcher import caught
from health_platform.local.ports import free_port
from health_platform.local.smtp_sink import MAX_MESSAGE_BYTES, sink


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    folder, port = tmp_path / "mail", free_port()
    controller = sink(folder, port)
    controller.start()
    yield folder, port
    controller.stop()


def test_what_the_api_sends_is_kept_whole(catcher: tuple[Path, int]) -> None:
    folder, port = catcher
    # Only the mail settings matter here (the rest would name a database).
    settings = ApiSettings.model_construct(
        mail_backend="smtp", smtp_port=port, mail_from="platform@localhost"
    )
    mailer = mailer_for(settings)
    assert isinstance(mailer, SmtpMailer)
    mailer.deliver("ada@example.com", "Confirm your address", "Open https://localhost/x — ü")
    (kept,) = caught(folder)
    assert kept.to == "ada@example.com"
    assert kept.subject == "Confirm your address"
    assert kept.body.strip() == "Open https://localhost/x — ü"


def test_a_message_over_the_limit_is_refused(catcher: tuple[Path, int]) -> None:
    folder, port = catcher
    mailer = SmtpMailer(port, "platform@localhost")
    with pytest.raises(smtplib.SMTPException):
        mailer.deliver("ada@example.com", "Large", "x" * (MAX_MESSAGE_BYTES + 1))
    assert caught(folder) == []


def test_messages_are_listed_newest_first_within_one_second(tmp_path: Path) -> None:
    # The Date header counts whole seconds and a Maildir lists its files in no set order:
    # the delivery times order messages sent together (a welcome, then a second link).
    mailer = MaildirMailer(str(tmp_path), "platform@localhost")
    subjects = [f"Message {n}" for n in range(12)]
    for subject in subjects:
        mailer.deliver("ada@example.com", subject, "body")
    assert [m.subject for m in caught(tmp_path)] == subjects[::-1]
