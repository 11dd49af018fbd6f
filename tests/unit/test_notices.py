"""The emails to account owners: the Outbox sends one message of a subject to an address an
hour (api/mail.py), so two notices that may follow each other need subjects of their own."""

from __future__ import annotations

from health_platform.api import notices
from health_platform.api.sign_in_guard import Milestone

LINK = "https://localhost:8443/page#token=x"


def test_every_kind_of_notice_has_a_subject_of_its_own() -> None:
    made = [
        notices.welcome(LINK),
        notices.registration_attempt(),
        notices.failed_sign_ins(Milestone.SOURCE_WAITS, "203.0.113.7"),
        notices.locked(),
        notices.password_changed("203.0.113.7"),
        notices.second_factor_reset(),
        notices.verify_email(LINK),
        notices.password_reset(LINK),
        notices.reset_needs_a_confirmed_address(LINK),
    ]
    subjects = [subject for subject, _ in made]
    assert len(set(subjects)) == len(subjects), subjects
    # Each link is in its message, whole.
    linked = made[0], *made[6:]
    assert all(LINK in body for _, body in linked)
