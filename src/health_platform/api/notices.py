"""The emails the API sends an account's owner, as (subject, body)."""

from __future__ import annotations

from health_platform.api.sign_in_guard import Milestone

Notice = tuple[str, str]


def welcome(verify_link: str) -> Notice:
    # No name or other text of the registrant's: the message must not carry what a
    # stranger typed to someone else's address.
    return (
        "Your health-platform account",
        "Hello,\n\nan account was created with this email; sign in with the password chosen"
        " then. To confirm the address is yours (a forgotten password can be reset only"
        f" through a confirmed one), open:\n\n{verify_link}\n\n"
        "If you did not create it, reply to this message.\n",
    )


def verify_email(verify_link: str) -> Notice:
    return (
        "Confirm your email for health-platform",
        f"Hello,\n\nto confirm this address for your account, open:\n\n{verify_link}\n\n"
        "The link works once, for a week.\n",
    )


def password_reset(reset_link: str) -> Notice:
    return (
        "Reset your health-platform password",
        "Hello,\n\nsomeone asked to reset the password of your account. To choose a new one,"
        f" open:\n\n{reset_link}\n\nThe link works once, for an hour. If it was not you,"
        " ignore this message: your password stays as it is.\n",
    )


def reset_needs_a_confirmed_address(verify_link: str) -> Notice:
    # A subject of its own: the Outbox sends one message of a subject per address an hour,
    # and the reset link must still go out once the address is confirmed.
    return (
        "Confirm your email to reset your health-platform password",
        "Hello,\n\nsomeone asked to reset the password of your account, but this address is"
        " not confirmed yet, and a password can be reset only through a confirmed one."
        f" Confirm it by opening:\n\n{verify_link}\n\nthen ask for the reset again.\n",
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


def second_factor_off(address: str | None) -> Notice:
    return (
        "Two-step sign-in is off for your health-platform account",
        "Hello,\n\ntwo-step sign-in was turned off for your account"
        + (f", from {address}" if address else "")
        + ", with your password and a code from your authenticator; your recovery codes no"
        " longer work. If it was not you, sign out everywhere, change your password and turn"
        " two-step sign-in on again.\n",
    )


def recovery_code_used(left: int) -> Notice:
    return (
        "A recovery code signed in to your health-platform account",
        "Hello,\n\nsomeone signed in to your account with one of its recovery codes instead of"
        f" the authenticator's code; {left} unused code{'s' if left != 1 else ''} left. Make"
        " new codes in the application when few are left.\n\n"
        "If it was not you, change your password and tell us by replying to this message.\n",
    )


def password_change_failures(address: str) -> Notice:
    return (
        "Wrong passwords in a signed-in session of your health-platform account",
        "Hello,\n\na session signed in to your account, from "
        f"{address}, gave several wrong passwords where yours is asked for (to change it, or"
        " to delete the account); further tries from there now wait. If it was not you, sign"
        " out everywhere and change your password.\n",
    )


def deletion_requested(due: str) -> Notice:
    return (
        "Your health-platform account will be deleted",
        "Hello,\n\nyou asked us to delete your account. On " + due + " we delete your"
        " measurements, your documents and your profile; records of who accessed them are"
        " kept, as the law requires.\n\nTo keep your account, sign in before then and choose"
        " Keep my account. If you did not ask for this, sign in, keep it, and change your"
        " password.\n",
    )


def deletion_cancelled() -> Notice:
    return (
        "Your health-platform account will not be deleted",
        "Hello,\n\nthe deletion of your account was cancelled; everything stays as it was.\n\n"
        "If it was not you, change your password and tell us by replying to this message.\n",
    )
