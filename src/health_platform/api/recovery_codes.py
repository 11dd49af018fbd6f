"""Recovery codes: for an account with TOTP whose owner lost the authenticator, ten one-time
codes in place of the 6 digits. Each carries about 60 random bits, so its SHA-256 is what
the account keeps (a slow hash guards what people choose, not what a machine drew); a code
used is gone."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from health_platform.api.models import User

COUNT = 10
# Lower case letters and digits that cannot be mistaken for one another.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS, GROUP_LENGTH = 3, 4
PATTERN = rf"^[{ALPHABET}]{{{GROUP_LENGTH}}}(-[{ALPHABET}]{{{GROUP_LENGTH}}}){{{GROUPS - 1}}}$"


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_set(user: User) -> list[str]:
    """Ten new codes for `user`, replacing any earlier set; shown once, kept as digests."""
    codes = [
        "-".join(
            "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
        )
        for _ in range(COUNT)
    ]
    user.recovery_codes = [_digest(code) for code in codes]
    return codes


def redeem(user: User, code: str) -> bool:
    """Whether `code` is one of the user's unused codes; if so it is used up."""
    digest = _digest(code)  # as the sign-in's model made it: lower case
    for kept in user.recovery_codes or []:
        if hmac.compare_digest(kept, digest):
            user.recovery_codes = [k for k in user.recovery_codes or [] if k != kept]
            return True
    return False


def left(user: User) -> int:
    return len(user.recovery_codes or [])
