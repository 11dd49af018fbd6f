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
    NO_CREDENTIALS = 4  # the command talks to AWS and no credentials were found
    AWS_ERROR = 5  # AWS refused a call, or a deployment failed
    REFUSED = 6  # the command will not do this (destroy prod) or the user said no
    LOCAL_FAILURE = 7  # the local platform could not start: a port in use, a component failed


class UserError(Exception):
    """A failure the user can fix; `hp` prints the message as it is and exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT


class InvalidInputError(UserError):
    exit_code = ExitCode.INVALID_INPUT


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
