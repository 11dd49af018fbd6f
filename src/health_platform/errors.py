"""Errors a user can cause and fix, each with the exit code `hp` documents for it.

Anything else that escapes is a bug and is shown as one, with a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of `hp`; every command's --help lists the ones it uses."""

    OK = 0
    FINDINGS = 1  # a check ran and found problems (cfn-lint, cdk-nag, a safeguard without evidence)
    INVALID_INPUT = 2  # bad arguments, unknown environment, invalid environment file
    TOOLCHAIN = 3  # a required tool (the pinned Node, the CDK libraries) is missing
    NO_CREDENTIALS = 4  # the command talks to AWS and no credentials were found
    AWS_ERROR = 5  # AWS refused a call, or a deployment failed
    REFUSED = 6  # the command will not do this (destroy prod) or the user said no
    LOCAL_FAILURE = 7  # the local platform failed: it could not start, or a backup or restore
    TIMED_OUT = 8  # a wait on AWS ran out of time (what was waited on is said, and stopped)


# What each code means, as every command's --help says it (the help is generated from this).
MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "ok",
    ExitCode.FINDINGS: "findings (a check found problems, or what was asked is unhealthy)",
    ExitCode.INVALID_INPUT: "invalid input (arguments, unknown environment, invalid file)",
    ExitCode.TOOLCHAIN: "a required tool is missing (the message names it)",
    ExitCode.NO_CREDENTIALS: "no AWS credentials",
    ExitCode.AWS_ERROR: "AWS refused a call, or a deployment, release or task failed",
    ExitCode.REFUSED: "refused (it needs a confirmation it did not get, or cannot be done)",
    ExitCode.LOCAL_FAILURE: "the local platform failed (a port in use, a component that did not"
    " start, a backup, restore or drill that failed)",
    ExitCode.TIMED_OUT: "timed out waiting on AWS",
}


def exit_codes_help(*codes: ExitCode, extra: str = "") -> str:
    """The epilog of a command's --help: the codes it can exit with (0 and 2 always)."""
    chosen = sorted({ExitCode.OK, ExitCode.INVALID_INPUT, *codes})
    listed = "; ".join(f"{int(code)} {MEANINGS[code]}" for code in chosen)
    return f"Exit codes: {listed}.{' ' + extra if extra else ''}"


class UserError(Exception):
    """A failure the user can fix; `hp` prints the message as it is and exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT


class InvalidInputError(UserError):
    exit_code = ExitCode.INVALID_INPUT


class UnknownEnvironmentError(InvalidInputError):
    """A name that is no environment file; `known` are those that are."""

    def __init__(self, names: list[str], known: list[str], also: str = "") -> None:
        said = f"{', '.join(known)}{also}"
        super().__init__(f"Unknown environment {', '.join(map(repr, names))}; known: {said}.")
        self.names, self.known = names, known


class ToolchainError(UserError):
    exit_code = ExitCode.TOOLCHAIN


class NoCredentialsError(UserError):
    exit_code = ExitCode.NO_CREDENTIALS


class AwsError(UserError):
    exit_code = ExitCode.AWS_ERROR


class RefusedError(UserError):
    exit_code = ExitCode.REFUSED


class LocalPlatformError(UserError):
    exit_code = ExitCode.LOCAL_FAILURE


class TimedOutError(UserError):
    exit_code = ExitCode.TIMED_OUT
