"""The emails the API sends an account's owner, as (subject, body)."""

from __future__ import annotations

from health_platform.api.sign_in_guard import Milestone

Notice = tuple[str, str]


def welcome() -> Notice:
    # No name or other text of the registrant's: the message must not carry what a
    # stranger typed to someone else's address.
    return (
        "Your health-platform account",
        "Hello,\n\nan account was created with this email; sign in with the password chosen"
        " then.\n\nIf you did not create it, reply to this message.\n",
    )


def registration_attempt() -> Notice:
    # The same answer went to whoever tried: only the owner learns the account exists.
    return (
        "Someone tried to register with your email",
        "Hello,\n\nsomeone tried to create a health-platform account with this email, which"
        " already has one. Nothing was changed. If it was you, sign in with your password.\n",
    )


def failed_sign_ins(milestone: Milestone, address: str) -> Notice:
    where = (
        f"from the address {address}"
        if milestone is Milestone.SOURCE_WAITS
        else f"from many addresses (the latest {address})"
    )
    return (
        "Failed sign-ins to your health-platform account",
        f"Hello,\n\nsign-ins to your account with a wrong password came {where}. Further"
        " attempts from there are slowed down; you can still sign in from your own"
        " devices.\n\nIf this was not you, choose a longer password and turn on two-step"
        " sign-in in your account.\n",
    )


def locked() -> Notice:
    return (
        "Your health-platform account is locked",
        "Hello,\n\nsomeone signed in with your password, but an administrator has locked your"
        " account. Contact your administrator; if it was not you, ask them to change your"
        " password too.\n",
    )


def password_changed(address: str | None) -> Notice:
    return (
        "Your health-platform password was changed",
        "Hello,\n\nthe password of your account was changed"
        f"{f' from {address}' if address else ''}, and every other session signed out.\n\n"
        "If it was not you, reset your password and tell us by replying to this message.\n",
    )


def second_factor_reset() -> Notice:
    return (
        "The second factor of your health-platform account was reset",
        "Hello,\n\nan administrator reset the authenticator of your account, and every session"
        " signed out. Enroll your authenticator again at your next sign-in.\n\n"
        "If you did not ask for this, tell us by replying to this message.\n",
    )
