"""Email to account owners: SES on AWS (moto, in-process), a Maildir here, and at most one
message of a kind to an address per hour, whatever is done to provoke more."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import boto3
import pytest
import redis.asyncio
from anyio.from_thread import BlockingPortal
from moto import mock_aws
from moto.ses.models import ses_backends

from health_platform.api.mail import (
    SES_TIMEOUTS,
    MaildirMailer,
    Outbox,
    SesMailer,
    open_maildir,
)
from health_platform.api.notices import registration_attempt
from tests.conftest import Backends

SENDER = "no-reply@dev.health.example.com"


@pytest.fixture
def region(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    return "us-east-1"


def test_ses_sends_from_the_environments_address_with_short_timeouts(region: str) -> None:
    with mock_aws():
        mailer = SesMailer(SENDER)
        mailer.client.create_email_identity(EmailIdentity="dev.health.example.com")
        mailer.deliver("ada@example.org", "Subject", "Body")
        account = boto3.client("sts").get_caller_identity()["Account"]
        (sent,) = ses_backends[account][region].sent_messages
    assert (sent.source, sent.destinations) == (SENDER, {"ToAddresses": ["ada@example.org"]})
    config = mailer.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        SES_TIMEOUTS["connect_timeout"],
        SES_TIMEOUTS["read_timeout"],
    )


def test_one_message_of_a_kind_per_address_per_hour(
    backends: Backends, tmp_path: Path, portal: BlockingPortal
) -> None:
    """Registering someone's address ten times sends its owner one message, not ten."""
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.org"

    async def provoke() -> None:
        client = redis.asyncio.Redis.from_url(backends.redis.url)
        outbox = Outbox(MaildirMailer(str(tmp_path), SENDER), client)
        for _ in range(10):
            outbox.send_later(owner, registration_attempt())
        await outbox.close()
        await client.aclose()

    portal.call(provoke)
    deadline = time.monotonic() + 5
    while not list(open_maildir(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["To"] for m in open_maildir(tmp_path)] == [owner]
