"""boto3 sessions, the credentials check, and AWS errors said in one sentence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import NoCredentialsError as BotoNoCreds

from health_platform.errors import AwsError, NoCredentialsError


def require_credentials(session: boto3.Session) -> None:
    if session.get_credentials() is None:
        raise NoCredentialsError(
            "No AWS credentials found (environment, ~/.aws, SSO or instance role);"
            " `hp infra synth` and `hp infra check` work without them."
        )


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn what botocore raises while `doing` into one sentence (exit code 5)."""
    try:
        yield
    except BotoNoCreds as missing:
        raise NoCredentialsError(f"No AWS credentials found while trying to {doing}.") from missing
    except ClientError as refused:
        detail = refused.response.get("Error", {})
        raise AwsError(
            f"AWS refused to {doing}: {detail.get('Code', 'Error')}: {detail.get('Message', '')}"
        ) from refused
    except BotoCoreError as failed:
        raise AwsError(f"Could not {doing}: {failed}") from failed
