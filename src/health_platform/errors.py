"""Errors a user can cause and fix, each with the exit code `hp` documents for it.

Anything else that escapes is a bug and is shown as one, with a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of `hp`; every command's --help lists the ones it uses."""

    OK = 0
    FINDINGS = 1  # a check ran and found problems (cfn-lint, cdk-nag)
    INVALID_INPUT = 2  # bad arguments, unknown environment, invalid environment file
    TOOLCHAIN = 3  # a required tool (the pinned Node, the CDK libraries) is missing


class UserError(Exception):
    """A failure the user can fix; `hp` prints the message as it is and exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT


class InvalidInputError(UserError):
    exit_code = ExitCode.INVALID_INPUT


class ToolchainError(UserError):
    exit_code = ExitCode.TOOLCHAIN
