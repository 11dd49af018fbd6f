"""boto3 sessions, the credentials check, and AWS errors said in one sentence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import NoCredentialsError as BotoNoCreds

from health_platform.errors import AwsError, NoCredentialsError
from health_platform.infra import naming

# (service, region) -> a boto3 client. Operations take one, so tests can hand them clients
# of moto or clients wrapped in botocore's Stubber.
ClientFactory = Callable[[str, str], Any]


# Throttling is retried with backoff (the standard mode's answer to Throttling,
# TooManyRequestsException, RequestLimitExceeded…): a doctor or a release makes bursts of
# describe calls, and the legacy mode's 4 attempts give up too soon.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 8})


def boto_clients(session: boto3.Session | None = None) -> ClientFactory:
    chosen = session or boto3.Session()
    return lambda service, region: chosen.client(service, region_name=region, config=RETRIES)


def require_credentials(session: boto3.Session) -> None:
    if session.get_credentials() is None:
        raise NoCredentialsError(
            "No AWS credentials found (environment, ~/.aws, SSO or instance role);"
            " `hp infra synth` and `hp infra check` work without them."
        )


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def stack_missing(error: ClientError) -> bool:
    """CloudFormation's answer about a stack that does not exist: a ValidationError that
    says so (it has no error code of its own)."""
    return error_code(error) == "ValidationError" and "does not exist" in str(error)


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


class StackOutputs(dict[str, str]):
    """A stack's outputs; one that is missing (a stack whose deployment failed has none)
    is one sentence naming the stack's state and the command that fixes it."""

    def __init__(self, stack: str, status: str, env: str, values: dict[str, str]) -> None:
        super().__init__(values)
        self.stack, self.status, self.env = stack, status, env

    def __missing__(self, key: str) -> str:
        raise AwsError(
            f"{self.stack} has no output {key} (it is {self.status}); deploy it with"
            f" `hp infra apply {self.env}`."
        )


def stack_outputs(clients: ClientFactory, env: str, part: str, region: str) -> StackOutputs:
    """The outputs of one of the environment's stacks; a stack that is not deployed is one
    sentence naming the command that deploys it."""
    name = naming.stack_name(env, part)
    try:
        (stack,) = clients("cloudformation", region).describe_stacks(StackName=name)["Stacks"]
    except ClientError as missing:
        if stack_missing(missing):
            raise AwsError(
                f"{name} is not deployed in {region}; deploy it with `hp infra apply {env}`."
            ) from missing
        raise
    values = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return StackOutputs(name, stack["StackStatus"], env, values)
