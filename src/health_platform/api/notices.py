"""The emails the API sends an account's owner, as (subject, body)."""

from __future__ import annotations

from datetime import UTC, datetime

Notice = tuple[str, str]


def welcome(display_name: str) -> Notice:
    return (
        "Your health-platform account",
        f"Hello {display_name},\n\nyour account was created; sign in with the password you"
        " chose.\n\nIf you did not create it, reply to this message.\n",
    )


def registration_attempt() -> Notice:
    # The same answer went to whoever tried: only the owner learns the account exists.
    return (
        "Someone tried to register with your email",
        "Hello,\n\nsomeone tried to create a health-platform account with this email, which"
        " already has one. Nothing was changed. If it was you, sign in with your password.\n",
    )


def failed_sign_ins(count: int, address: str, at: datetime | None = None) -> Notice:
    when = (at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "Failed sign-ins to your health-platform account",
        f"Hello,\n\n{count} sign-ins to your account with a wrong password came from the"
        f" address {address} (last at {when}). Further attempts from there are slowed down;"
        " you can still sign in from your own devices.\n\nIf this was not you, choose a"
        " longer password and turn on two-step sign-in in your account.\n",
    )
