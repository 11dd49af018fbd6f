"""`hp secrets list | set | rotate`: the platform's secrets, whose values stay in this module.

Two kinds live in AWS:
- the application secrets (contract.APP_SECRETS): SSM SecureString parameters under the data
  stack's key, which ECS hands to the backend's tasks when they start;
- the Redis AUTH token: the data stack's Secrets Manager secret, which ElastiCache must be
  told about too, so it is only ever rotated (ElastiCache's two-step procedure).

A value comes from a callable the CLI passes (it reads a hidden prompt or stdin) or is
generated here. It is sent to AWS and nowhere else: results carry names, places, dates and
steps, and an AWS error that quotes a value has it blanked out before it is raised.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ConfigDict, ValidationError, create_model

from health_platform.contract import APP_SECRETS, BACKEND, ApiSettings
from health_platform.errors import AwsError, InvalidInputError, RefusedError, UserError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code, stack_outputs
from health_platform.settings import EnvironmentSettings

# What this CLI calls the cache's AUTH token.
REDIS_AUTH_TOKEN = "redis-auth-token"  # noqa: S105 - a name, not a token

SSM = "SSM Parameter Store"
# Secrets Manager's staging labels: what tasks read, and a rotation's value not yet in use.
CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
SECRETS_MANAGER = "Secrets Manager"

# ElastiCache refuses @, ", / and % in a token; letters and digits are always accepted, and
# 64 of them are as strong as the token the data stack generated.
AUTH_TOKEN_ALPHABET = string.ascii_letters + string.digits
AUTH_TOKEN_LENGTH = 64
APP_SECRET_BYTES = 48  # token_urlsafe(48): 64 characters, above the API's minimum of 32

# A modification of the cache takes minutes; a backend deployment drains old tasks first.
DEFAULT_TIMEOUT = 1800.0
DEFAULT_INTERVAL = 15.0
# An ECS service that is missing or being deleted has no tasks to restart.
NO_SERVICE = frozenset(
    {"ClusterNotFoundException", "ServiceNotFoundException", "ServiceNotActiveException"}
)

ValueSource = Callable[[], str]
Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class SecretInfo:
    """Where a secret lives and whether it is set; never its value."""

    name: str
    store: str  # SSM or SECRETS_MANAGER
    location: str  # the parameter's name, or the secret's ARN
    is_set: bool
    last_changed: datetime | None


@dataclass(frozen=True)
class SecretChange:
    """What `set` or `rotate` did; never the value."""

    name: str
    store: str
    location: str
    generated: bool
    backend_restarted: bool
    steps: tuple[str, ...]


@dataclass(frozen=True)
class _Waiting:
    sleep: Sleep
    clock: Clock
    timeout: float
    interval: float


def known_secrets() -> list[str]:
    return [*APP_SECRETS, REDIS_AUTH_TOKEN]


def list_secrets(settings: EnvironmentSettings, clients: ClientFactory) -> list[SecretInfo]:
    """Every secret of the environment: where it lives, whether it is set, when it changed."""
    env, region = settings.name, settings.region
    with aws_errors(f"list {env}'s secrets"):
        outputs = stack_outputs(clients, env, naming.DATA, region)
        parameters = {naming.app_secret_parameter(env, name): name for name in APP_SECRETS}
        pages = (
            clients("ssm", region)
            .get_paginator("describe_parameters")
            .paginate(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": list(parameters)}]
            )
        )
        # describe_parameters, not get_parameters: it has the dates and never the values.
        found = {p["Name"]: p for page in pages for p in page["Parameters"]}
        listed = [
            SecretInfo(
                name,
                SSM,
                parameter,
                parameter in found,
                found.get(parameter, {}).get("LastModifiedDate"),
            )
            for parameter, name in parameters.items()
        ]
        listed.append(_auth_token_info(clients("secretsmanager", region), outputs))
    return listed


def set_secret(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    name: str,
    value: ValueSource | None = None,
    *,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
) -> SecretChange:
    """Write an application secret (from `value`, or generated when None) and restart the
    backend so its tasks read it."""
    require_known(settings.name, name)
    if name == REDIS_AUTH_TOKEN:
        raise RefusedError(
            f"{REDIS_AUTH_TOKEN} is changed only by `hp secrets rotate {settings.name}"
            f" {REDIS_AUTH_TOKEN}`, which tells the cache before the backend."
        )
    return _write_app_secret(
        settings, clients, name, value, _Waiting(sleep, clock, timeout, interval)
    )


def rotate_secret(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    name: str,
    *,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
) -> SecretChange:
    """Replace a secret with a generated value: an application secret as `set` does, the
    Redis AUTH token without downtime (ROTATE, store, restart the backend, SET)."""
    require_known(settings.name, name)
    waiting = _Waiting(sleep, clock, timeout, interval)
    if name == REDIS_AUTH_TOKEN:
        return _rotate_auth_token(settings, clients, waiting)
    return _write_app_secret(settings, clients, name, None, waiting)


def require_known(env: str, name: str) -> None:
    if name not in known_secrets():
        raise InvalidInputError(f"Unknown secret {name!r}; {env} has {', '.join(known_secrets())}.")


def _auth_token_info(secretsmanager: Any, outputs: dict[str, str]) -> SecretInfo:
    arn = outputs[naming.Output.CACHE_AUTH_TOKEN_SECRET]
    try:
        described = secretsmanager.describe_secret(SecretId=arn)
    except ClientError as missing:
        if error_code(missing) != "ResourceNotFoundException":
            raise
        return SecretInfo(REDIS_AUTH_TOKEN, SECRETS_MANAGER, arn, False, None)
    stages = described.get("VersionIdsToStages", {}).values()
    return SecretInfo(
        REDIS_AUTH_TOKEN,
        SECRETS_MANAGER,
        arn,
        any("AWSCURRENT" in stage for stage in stages),
        described.get("LastChangedDate"),
    )


def _write_app_secret(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    name: str,
    value: ValueSource | None,
    waiting: _Waiting,
) -> SecretChange:
    env, region = settings.name, settings.region
    # The key first: nobody should type a secret only to hear the data stack is missing.
    with aws_errors(f"read {env}'s data stack"):
        key = stack_outputs(clients, env, naming.DATA, region)[naming.Output.DATA_KEY]
    chosen = value() if value is not None else secrets.token_urlsafe(APP_SECRET_BYTES)
    _check_app_secret(name, chosen)
    parameter = naming.app_secret_parameter(env, name)
    with _redacted(chosen), aws_errors(f"write {name} of {env}"):
        clients("ssm", region).put_parameter(
            Name=parameter, Value=chosen, Type="SecureString", KeyId=key, Overwrite=True
        )
    steps = [f"wrote a new version of {parameter} (SecureString under the data key)"]
    try:
        with aws_errors(f"restart {env}'s {BACKEND}"):
            restarted, step = _restart_backend(clients("ecs", region), env, waiting)
    except UserError as stopped:
        raise AwsError(
            f"{stopped} The new {name} is stored; tasks that start from now on read it."
        ) from None
    steps.append(step)
    return SecretChange(name, SSM, parameter, value is None, restarted, tuple(steps))


def _check_app_secret(name: str, value: str) -> None:
    """Refuse a value the API would refuse when it starts (the setting's own constraints)."""
    setting = APP_SECRETS[name]
    field = ApiSettings.model_fields[setting]
    definition: Any = (field.annotation, field)
    check = create_model(
        "AppSecretCheck",
        # hide_input_in_errors: the error must not carry the value it was given.
        __config__=ConfigDict(hide_input_in_errors=True),
        **{setting: definition},
    )
    try:
        check.model_validate({setting: value})
    except ValidationError as refused:
        reasons = "; ".join(
            # pydantic counts a SecretStr's length in "items"; a person counts characters.
            f"it needs at least {error['ctx']['min_length']} characters"
            if error["type"] == "too_short"
            else str(error["msg"])
            for error in refused.errors()
        )
        raise InvalidInputError(f"The API would refuse that value for {name}: {reasons}.") from None


@contextmanager
def _redacted(value: str) -> Iterator[None]:
    """An error that quotes the value (some AWS validation messages do) loses it here."""
    try:
        yield
    except UserError as failed:
        if value not in str(failed):
            raise
        raise type(failed)(str(failed).replace(value, "<the new value>")) from None


def _restart_backend(ecs: Any, env: str, waiting: _Waiting) -> tuple[bool, str]:
    """Force a new deployment of the backend and wait until it is stable: ECS reads secrets
    only when a task starts."""
    cluster = naming.cluster_name(env)
    try:
        ecs.update_service(cluster=cluster, service=BACKEND, forceNewDeployment=True)
    except ClientError as missing:
        if error_code(missing) not in NO_SERVICE:
            raise
        return (
            False,
            f"{BACKEND} is not deployed yet: its tasks will read the value when they start",
        )
    _wait_until(lambda: _stable(ecs, cluster), f"the {BACKEND} service to be stable", waiting)
    return True, f"restarted {BACKEND} (new deployment) and waited until it was stable"


def _stable(ecs: Any, cluster: str) -> bool:
    """ECS's own `services_stable` test (one deployment, every task running), plus a stop
    when the deployment's circuit breaker has given up."""
    (service,) = ecs.describe_services(cluster=cluster, services=[BACKEND])["services"]
    deployments = service.get("deployments", [])
    for deployment in deployments:
        if deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") == "FAILED":
            reason = deployment.get("rolloutStateReason", "").rstrip(".")
            raise AwsError(f"The {BACKEND}'s new deployment failed: {reason}.")
    return len(deployments) == 1 and service["runningCount"] == service["desiredCount"]


def _rotate_auth_token(
    settings: EnvironmentSettings, clients: ClientFactory, waiting: _Waiting
) -> SecretChange:
    """ElastiCache's procedure: ROTATE makes the cache accept the new token as well as the
    old; the backend is moved to the new one; SET then drops the old one.

    The new token is stored first, as the secret's AWSPENDING version, so a rotation that
    stops half-way is resumed by running it again, with the same token: a second ROTATE
    with another token would make the cache drop its oldest one, which the backend's tasks
    may still hold (ElastiCache accepts two tokens at most)."""
    env, region = settings.name, settings.region
    group = naming.cache_identifier(env)
    elasticache = clients("elasticache", region)
    store = clients("secretsmanager", region)
    steps: list[str] = []
    restarted = False
    with aws_errors(f"read {env}'s data stack"):
        arn = stack_outputs(clients, env, naming.DATA, region)[
            naming.Output.CACHE_AUTH_TOKEN_SECRET
        ]
    with aws_errors(f"read the versions of {arn}"):
        pending = _pending_version(store, arn)
    token = ""
    try:
        with aws_errors(f"rotate the AUTH token of {group}"):
            if pending is None:
                token = _auth_token()
                with _redacted(token):
                    pending = _store_pending(store, arn, token)
                steps.append(f"stored a new token in {arn} (AWSPENDING)")
            else:
                steps.append(f"resumed with the new token stored in {arn} (AWSPENDING)")
            # The version's own reading: its token, and when it was stored (the list of
            # versions is not to be relied on for that: moto gives the time of listing).
            stored = store.get_secret_value(SecretId=arn, VersionId=pending.version_id)
            token = stored["SecretString"]
            with _redacted(token):
                if _token_changed_since(elasticache, group, stored["CreatedDate"]):
                    steps.append(f"{group} accepts the new token already (ROTATE was applied)")
                else:
                    _modify_auth_token(elasticache, group, token, "ROTATE")
                    _wait_until(
                        lambda: _cache_ready(elasticache, group), f"{group} to apply it", waiting
                    )
                    steps.append(f"{group} accepts the new token as well as the old (ROTATE)")
                _promote(store, arn, pending)
                steps.append(f"the new token is {arn}'s current value")
                restarted, step = _restart_backend(clients("ecs", region), env, waiting)
                steps.append(step)
                _modify_auth_token(elasticache, group, token, "SET")
                _wait_until(
                    lambda: _cache_ready(elasticache, group), f"{group} to apply it", waiting
                )
                steps.append(f"{group} no longer accepts the old token (SET)")
                store.update_secret_version_stage(
                    SecretId=arn, VersionStage=PENDING, RemoveFromVersionId=pending.version_id
                )
    except UserError as stopped:
        if not steps:
            raise
        # Until SET is applied the cache accepts both tokens, so the backend works whichever
        # one its tasks hold; saying so spares a late-night guess.
        raise AwsError(
            f"{stopped} Done before that: {'; '.join(steps)}. The cache still accepts the old"
            " token until the last step, so the backend keeps working; run the same command"
            " again to finish with the same new token."
        ) from None
    return SecretChange(REDIS_AUTH_TOKEN, SECRETS_MANAGER, arn, True, restarted, tuple(steps))


@dataclass(frozen=True)
class _Version:
    version_id: str
    current: bool


def _pending_version(store: Any, arn: str) -> _Version | None:
    """The AWSPENDING version a rotation that stopped left behind, if any."""
    for version in _versions(store, arn):
        stages = version.get("VersionStages", [])
        if PENDING in stages:
            return _Version(version["VersionId"], CURRENT in stages)
    return None


def _versions(store: Any, arn: str) -> list[dict[str, Any]]:
    """Every version of the secret (botocore has no paginator for this call)."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"SecretId": arn}
    while True:
        page = store.list_secret_version_ids(**request)
        found += page["Versions"]
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def _store_pending(store: Any, arn: str, token: str) -> _Version:
    stored = store.put_secret_value(SecretId=arn, SecretString=token, VersionStages=[PENDING])
    return _Version(stored["VersionId"], current=False)


def _token_changed_since(elasticache: Any, group: str, moment: datetime) -> bool:
    """Whether the cache's token was modified after `moment` (the pending token's storing):
    then ROTATE with it was applied by the run that stopped."""
    (described,) = elasticache.describe_replication_groups(ReplicationGroupId=group)[
        "ReplicationGroups"
    ]
    changed = described.get("AuthTokenLastModifiedDate")
    return bool(changed and changed >= moment)


def _promote(store: Any, arn: str, pending: _Version) -> None:
    """Make the pending version AWSCURRENT (what ECS hands the backend's new tasks)."""
    if pending.current:
        return
    current = next(
        v["VersionId"] for v in _versions(store, arn) if CURRENT in v.get("VersionStages", [])
    )
    store.update_secret_version_stage(
        SecretId=arn,
        VersionStage=CURRENT,
        MoveToVersionId=pending.version_id,
        RemoveFromVersionId=current,
    )


def _auth_token() -> str:
    while True:
        token = "".join(secrets.choice(AUTH_TOKEN_ALPHABET) for _ in range(AUTH_TOKEN_LENGTH))
        # ElastiCache's guidance for a strong token: several kinds of character.
        if (
            any(c.islower() for c in token)
            and any(c.isupper() for c in token)
            and any(c.isdigit() for c in token)
        ):
            return token


def _modify_auth_token(elasticache: Any, group: str, token: str, strategy: str) -> None:
    elasticache.modify_replication_group(
        ReplicationGroupId=group,
        AuthToken=token,
        AuthTokenUpdateStrategy=strategy,
        ApplyImmediately=True,
    )


def _cache_ready(elasticache: Any, group: str) -> bool:
    (described,) = elasticache.describe_replication_groups(ReplicationGroupId=group)[
        "ReplicationGroups"
    ]
    pending = described.get("PendingModifiedValues", {})
    return bool(described["Status"] == "available" and not pending.get("AuthTokenStatus"))


def _wait_until(ready: Callable[[], bool], what: str, waiting: _Waiting) -> None:
    deadline = waiting.clock() + waiting.timeout
    while not ready():
        if waiting.clock() >= deadline:
            raise AwsError(f"Gave up waiting for {what} after {waiting.timeout:.0f} s.")
        waiting.sleep(waiting.interval)
