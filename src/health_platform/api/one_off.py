"""What the backend image's one-off commands share (`create_admin`, `verify_restore`): usage
mistakes as one sentence, and the exit codes their callers read from the task: 0 done (the
result on stdout), 1 failed (the reason on stderr), 2 invalid input (one sentence on stderr)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from health_platform.errors import ExitCode, InvalidInputError


class Arguments(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one sentence, not argparse's usage text
        raise InvalidInputError(f"{message[:1].upper()}{message[1:]}.")


def run(work: Callable[[], str], failing: str) -> int:
    """Print what `work` returns and exit 0; its failure is `failing`'s reason and exit 1."""
    try:
        said = work()
    except InvalidInputError as invalid:
        print(invalid, file=sys.stderr)
        return ExitCode.INVALID_INPUT
    except Exception as failed:  # the exit code is the contract; the reason goes to stderr
        print(f"{failing} failed: {type(failed).__name__}: {failed}", file=sys.stderr)
        return 1
    print(said)
    return ExitCode.OK
