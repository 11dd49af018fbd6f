"""Links sent to an account's address: confirming the address (sent at sign-up, and again
on request), and resetting a forgotten password, which only a confirmed address may do;
asking tells nobody whether an address has an account."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from health_platform.api.models import User as UserRow
from health_platform.contract import ApiSettings
from health_platform.local.mail_catcher import caught
from tests.api.conftest import PASSWORD, Direct, User, client_for

NEW_PASSWORD = "violet harbour tractor glimmer"  # noqa: S105 - a test account's new password
LINK = re.compile(r"(https://\S+)#token=(\S+)")


def links_to(settings: ApiSettings, email: str, expected: int) -> dict[str, list[str]]:
    """The tokens of the links the API emailed `email`, by the page they open, oldest first,
    once `expected` messages arrived (they are sent beside the response) or after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        messages = caught(Path(settings.mail_dir), email)
        if len(messages) >= expected or time.monotonic() > deadline:
            found: dict[str, list[str]] = {}
            for message in reversed(messages):
                match = LINK.search(message.body)
                if match:
                    page = match[1].removeprefix(settings.public_url)
                    found.setdefault(page, []).append(match[2])
            return found
        time.sleep(0.05)


def reset_link_of_a_confirmed_address(
    anonymous: TestClient, settings: ApiSettings, email: str
) -> str:
    """Confirm a new account's address with its welcome link, ask for a reset, and return
    the reset link's token."""
    (welcome,) = links_to(settings, email, 1)["/verify-email"]
    assert anonymous.post("/api/account/email/verify", json={"token": welcome}).status_code == 204
    assert anonymous.post("/api/auth/password-reset", json={"email": email}).status_code == 202
    (reset,) = links_to(settings, email, 2)["/reset-password"]
    return reset


def test_the_welcome_link_confirms_the_address(
    patient: User, anonymous: TestClient, settings: ApiSettings
) -> None:
    assert patient.client.get("/api/auth/me").json()["email_verified"] is False
    assert list(links_to(settings, patient.email, 1)) == ["/verify-email"]
    (token,) = links_to(settings, patient.email, 1)["/verify-email"]
    # Opened anywhere, signed in or not: the token is the proof; once.
    assert anonymous.post("/api/account/email/verify", json={"token": token}).status_code == 204
    again = anonymous.post("/api/account/email/verify", json={"token": token})
    assert again.status_code == 400 and again.json()["error"]["code"] == "link_invalid"
    assert patient.client.get("/api/auth/me").json()["email_verified"] is True


def test_a_reset_goes_only_through_a_confirmed_address(
    app: FastAPI, patient: User, anonymous: TestClient, settings: ApiSettings
) -> None:
    asked = anonymous.post("/api/auth/password-reset", json={"email": patient.email})
    assert asked.status_code == 202
    # Not confirmed yet: the owner is sent a confirmation link, no reset link; the new
    # confirmation link is the one live (the welcome's no longer works).
    sent = links_to(settings, patient.email, 2)
    assert "/reset-password" not in sent and len(sent["/verify-email"]) == 2
    answers = sorted(
        anonymous.post("/api/account/email/verify", json={"token": token}).status_code
        for token in sent["/verify-email"]
    )
    assert answers == [204, 400]
    assert (
        anonymous.post("/api/auth/password-reset", json={"email": patient.email}).status_code == 202
    )
    (reset,) = links_to(settings, patient.email, 3)["/reset-password"]
    weak = anonymous.post(
        "/api/auth/password-reset/confirm", json={"token": reset, "new_password": "password123"}
    )
    assert weak.status_code == 422  # and the link still works: a refusal does not spend it
    chosen = anonymous.post(
        "/api/auth/password-reset/confirm", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert chosen.status_code == 204, chosen.text
    spent = anonymous.post(
        "/api/auth/password-reset/confirm", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert spent.status_code == 400
    assert patient.client.get("/api/auth/me").status_code == 401  # every session ended
    signed_in = client_for(app).post(
        "/api/auth/login", json={"email": patient.email, "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200
    old = client_for(app).post(
        "/api/auth/login", json={"email": patient.email, "password": PASSWORD}
    )
    assert old.status_code == 401


def test_asking_tells_nothing_of_the_address(
    anonymous: TestClient, patient: User, settings: ApiSettings
) -> None:
    unknown = "nobody-here@example.com"
    answers = [
        anonymous.post("/api/auth/password-reset", json={"email": email})
        for email in (unknown, patient.email)
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert links_to(settings, unknown, 1) == {}


def test_a_signed_in_owner_can_ask_for_a_new_confirmation_link(
    patient: User, settings: ApiSettings
) -> None:
    sent = patient.client.post("/api/account/email/verification", headers=patient.headers())
    assert sent.status_code == 200 and sent.json() == {"sent": True}
    welcome, again = links_to(settings, patient.email, 2)["/verify-email"]

    # Asked again within the hour: no new link, and the one mailed keeps working (a new
    # one would end it, with its own mail held back by the limit).
    more = patient.client.post("/api/account/email/verification", headers=patient.headers())
    assert more.json() == {"sent": False}
    assert links_to(settings, patient.email, 3)["/verify-email"] == [welcome, again]
    used = patient.client.post("/api/account/email/verify", json={"token": again})
    assert used.status_code == 204, used.text


def test_a_second_reset_within_the_hour_leaves_the_first_link_working(
    patient: User, anonymous: TestClient, settings: ApiSettings
) -> None:
    reset = reset_link_of_a_confirmed_address(anonymous, settings, patient.email)
    assert (
        anonymous.post("/api/auth/password-reset", json={"email": patient.email}).status_code == 202
    )
    assert links_to(settings, patient.email, 3)["/reset-password"] == [reset]
    chosen = anonymous.post(
        "/api/auth/password-reset/confirm", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert chosen.status_code == 204, chosen.text


def test_a_password_change_ends_the_reset_link(
    patient: User, anonymous: TestClient, settings: ApiSettings
) -> None:
    reset = reset_link_of_a_confirmed_address(anonymous, settings, patient.email)
    changed = patient.client.post(
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=patient.headers(),
    )
    assert changed.status_code == 204
    late = anonymous.post(
        "/api/auth/password-reset/confirm",
        json={"token": reset, "new_password": "another long harbour phrase"},
    )
    assert late.status_code == 400 and late.json()["error"]["code"] == "link_invalid"


def test_an_invited_administrator_who_never_chose_a_password_gets_no_link(
    anonymous: TestClient, settings: ApiSettings, direct: Direct
) -> None:
    """The operator hands an invitation over; a reset must not stand in for it."""
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"
    with direct.session() as session:
        session.add(
            UserRow(
                email=email,
                display_name="Invited",
                role="admin",
                password_hash=None,
                email_verified_at=datetime.now(UTC),
            )
        )
    assert anonymous.post("/api/auth/password-reset", json={"email": email}).status_code == 202
    assert links_to(settings, email, 1) == {}
