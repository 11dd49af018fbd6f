"""What a new password must be: long enough, and not guessable. Length alone let through
`password1234`, `aaaaaaaaaaaa` and the account's own email; zxcvbn (Dropbox's estimator:
common-password and word lists, keyboard patterns, repeats, dates, and the words of the
account itself) judges the rest, as NIST SP 800-63B asks of a list of known-bad passwords."""

from __future__ import annotations

import re

from anyio import to_thread
from zxcvbn import zxcvbn

from health_platform.api.errors import ApiError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3  # of zxcvbn's 0-4: "safely unguessable", about 10^8 guesses or more
SCORED_LENGTH = 72  # zxcvbn refuses longer passwords; what follows can only add strength


def context_words(*values: str) -> list[str]:
    """The words of an account a guesser would try first: its email, the email's parts,
    the name, and the service's own name."""
    words = []
    for value in ("health-platform", *values):
        parts = [part for part in re.split(r"[^a-z0-9]+", value.lower()) if len(part) > 2]
        # Whole, in parts, and run together ("Ada Lovelace" -> "adalovelace").
        words += [value.lower(), *parts, "".join(parts)]
    return words


def _weakness(password: str, context: list[str]) -> str | None:
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=context)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    hints = [feedback["warning"], *feedback["suggestions"]]
    return " ".join(["This password is too easy to guess.", *(h for h in hints if h)])


async def require_strong(password: str, *context: str, field: str = "password") -> None:
    """422 in the API's validation shape when `password` is guessable, naming `field`."""
    weakness = await to_thread.run_sync(_weakness, password, context_words(*context))
    if weakness is not None:
        raise ApiError(
            422,
            "invalid_request",
            "The request is not valid.",
            details=[{"field": field, "problem": weakness}],
        )
