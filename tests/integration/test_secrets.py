"""`hp secrets` against moto: the data stack's outputs, the data key, the SSM parameters, the
Redis AUTH token's secret and the replication group are made by direct API calls. moto's
ECS never brings a service's tasks up, so the backend's restart is answered by botocore's
Stubber (ECS only); everything else is moto. Every call is recorded in order, across
services, to check the rotation's sequence and that no value is ever read back."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from health_platform.errors import AwsError, ExitCode, InvalidInputError, RefusedError
from health_platform.infra import naming
from health_platform.ops.secrets import (
    REDIS_AUTH_TOKEN,
    SECRETS_MANAGER,
    SSM,
    list_secrets,
    rotate_secret,
    set_secret,
)
from health_platform.settings import load_environment
from tests.integration.aws_answers import FakeTime

REGION = "us-east-1"
PARAMETER = "/health-platform/dev/app/session-secret"
GROUP = "health-platform-dev-cache"
CLUSTER = "health-platform-dev"
# Values a test can look for in results and messages.
OLD_SESSION_SECRET = "old-session-secret-0123456789-abcdefghij"  # noqa: S105
OLD_TOKEN = "OldToken0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"  # noqa: S105
NEW_SESSION_SECRET = "correct-horse-battery-staple-0123456789-xyz"  # noqa: S105
READS_A_VALUE = {"GetParameter", "GetParameters", "GetParametersByPath", "GetSecretValue"}
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class Clients:
    """A ClientFactory of moto clients, some services answered by a Stubber instead; every
    call any of them makes is recorded as (operation, parameters), in order."""

    def __init__(self, *stubbed: str) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stubbers: dict[str, Stubber] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        for service in stubbed:
            client = self(service, REGION)
            self.stubbers[service] = Stubber(client)

    def __call__(self, service: str, region: str) -> Any:
        if (service, region) not in self._clients:
            client = boto3.client(service, region_name=region)
            client.meta.events.register("provide-client-params", self._record)
            if service == "elasticache":
                _token_dates_as_elasticache_reports_them(client)
            if service == "secretsmanager":
                _listed_versions_dated_by_moto(client)
            self._clients[(service, region)] = client
        return self._clients[(service, region)]

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]

    def __enter__(self) -> Clients:
        for stubber in self.stubbers.values():
            stubber.activate()
        return self

    def __exit__(self, *failed: object) -> None:
        for stubber in self.stubbers.values():
            stubber.deactivate()


def _listed_versions_dated_by_moto(store: Any) -> None:
    """moto dates each listed version with the time of listing, not of its making: a second
    boundary crossed between storing a token and reading the list made a rotation that
    relied on the list's dates misjudge what it had done (a CI run failed so). Here the
    list says an hour later, always: the dates to rely on are GetSecretValue's."""

    def listed(parsed: dict[str, Any], **_: Any) -> None:
        for version in parsed.get("Versions", []):
            version["CreatedDate"] = datetime.now(UTC) + timedelta(hours=1)

    store.meta.events.register("after-call.secretsmanager.ListSecretVersionIds", listed)


def _token_dates_as_elasticache_reports_them(elasticache: Any) -> None:
    """AuthTokenLastModifiedDate as ElastiCache reports it (moto keeps the creation time):
    the cache was made a day ago, and each token modification moves the date to its time."""
    changed = {"at": datetime.now(UTC) - timedelta(days=1)}

    def modified(**_: Any) -> None:
        changed["at"] = datetime.now(UTC)

    def described(parsed: dict[str, Any], **_: Any) -> None:
        for group in parsed.get("ReplicationGroups", []):
            group["AuthTokenLastModifiedDate"] = changed["at"]

    elasticache.meta.events.register("after-call.elasticache.ModifyReplicationGroup", modified)
    elasticache.meta.events.register("after-call.elasticache.DescribeReplicationGroups", described)


def deploy_data_stack(*, session_secret: bool = True) -> dict[str, str]:
    """What `hp infra apply dev --stacks network,data` and a first `hp secrets set` leave."""
    key = boto3.client("kms", REGION).create_key(Description="data")["KeyMetadata"]["Arn"]
    token = boto3.client("secretsmanager", REGION).create_secret(
        Name="health-platform-dev-data-CacheAuthToken", SecretString=OLD_TOKEN, KmsKeyId=key
    )["ARN"]
    boto3.client("cloudformation", REGION).create_stack(
        StackName="health-platform-dev-data",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {
                    naming.Output.DATA_KEY: {"Value": key},
                    naming.Output.CACHE_AUTH_TOKEN_SECRET: {"Value": token},
                },
            }
        ),
    )
    boto3.client("elasticache", REGION).create_replication_group(
        ReplicationGroupId=GROUP,
        ReplicationGroupDescription="sessions, cache, rate limits",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        TransitEncryptionEnabled=True,
        AuthToken=OLD_TOKEN,
    )
    if session_secret:
        boto3.client("ssm", REGION).put_parameter(
            Name=PARAMETER, Value=OLD_SESSION_SECRET, Type="SecureString", KeyId=key
        )
    return {"key": key, "token": token}


def deployment(identifier: str, status: str, rollout: str, running: int) -> dict[str, Any]:
    return {
        "id": identifier,
        "status": status,
        "taskDefinition": (
            "arn:aws:ecs:us-east-1:111111111111:task-definition/health-platform-dev-backend:7"
        ),
        "desiredCount": 1,
        "pendingCount": 1 - running,
        "runningCount": running,
        "createdAt": NOW,
        "updatedAt": NOW,
        "launchType": "FARGATE",
        "rolloutState": rollout,
        "rolloutStateReason": f"ECS deployment {identifier} {rollout.lower()}.",
    }


def backend(*deployments: dict[str, Any]) -> dict[str, Any]:
    return {
        "serviceName": "backend",
        "clusterArn": f"arn:aws:ecs:us-east-1:111111111111:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": sum(d["runningCount"] for d in deployments),
        "pendingCount": sum(d["pendingCount"] for d in deployments),
        "deployments": list(deployments),
    }


NEW = deployment("ecs-svc/2222222222222222222", "PRIMARY", "IN_PROGRESS", 0)
OLD = deployment("ecs-svc/1111111111111111111", "ACTIVE", "COMPLETED", 1)
DONE = deployment("ecs-svc/2222222222222222222", "PRIMARY", "COMPLETED", 1)
DESCRIBE_BACKEND = {"cluster": CLUSTER, "services": ["backend"]}


def expect_restart(stubber: Stubber, *, polls_until_stable: int = 1) -> None:
    stubber.add_response(
        "update_service",
        {"service": backend(NEW, OLD)},
        {"cluster": CLUSTER, "service": "backend", "forceNewDeployment": True},
    )
    for _ in range(polls_until_stable):
        stubber.add_response(
            "describe_services", {"services": [backend(NEW, OLD)]}, DESCRIBE_BACKEND
        )
    stubber.add_response("describe_services", {"services": [backend(DONE)]}, DESCRIBE_BACKEND)


def stored_parameter() -> dict[str, Any]:
    ssm = boto3.client("ssm", REGION)
    value = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    (described,) = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [PARAMETER]}]
    )["Parameters"]
    return {**described, "Value": value["Value"]}


def shows_nothing_of(result: object, *values: str) -> bool:
    text = f"{result!r} {result}"
    return not any(value in text for value in values)


@pytest.mark.usefixtures("aws")
def test_list_says_where_each_secret_lives_and_never_reads_a_value() -> None:
    made = deploy_data_stack()
    clients = Clients()

    listed = list_secrets(load_environment("dev"), clients)

    assert [(s.name, s.store, s.location, s.is_set) for s in listed] == [
        ("session-secret", SSM, PARAMETER, True),
        (REDIS_AUTH_TOKEN, SECRETS_MANAGER, made["token"], True),
    ]
    assert all(isinstance(s.last_changed, datetime) for s in listed)
    assert shows_nothing_of(listed, OLD_SESSION_SECRET, OLD_TOKEN)
    assert not READS_A_VALUE & set(clients.operations())


@pytest.mark.usefixtures("aws")
def test_list_before_the_application_secret_is_set() -> None:
    deploy_data_stack(session_secret=False)
    listed = {s.name: s for s in list_secrets(load_environment("dev"), Clients())}
    assert (listed["session-secret"].is_set, listed["session-secret"].last_changed) == (False, None)


@pytest.mark.usefixtures("aws")
def test_secrets_need_the_data_stack() -> None:
    with pytest.raises(AwsError) as missing:
        list_secrets(load_environment("dev"), Clients())
    assert "hp infra apply dev" in str(missing.value)
    assert missing.value.exit_code == ExitCode.AWS_ERROR


@pytest.mark.usefixtures("aws")
def test_no_value_is_asked_for_before_the_data_stack_is_found() -> None:
    asked: list[bool] = []

    def prompt() -> str:
        asked.append(True)
        return NEW_SESSION_SECRET

    with pytest.raises(AwsError, match="hp infra apply dev"):
        set_secret(load_environment("dev"), Clients(), "session-secret", prompt)
    assert asked == []


@pytest.mark.usefixtures("aws")
def test_set_writes_the_given_value_under_the_data_key_and_restarts_the_backend() -> None:
    made = deploy_data_stack()
    fake = FakeTime()
    with Clients("ecs") as clients:
        expect_restart(clients.stubbers["ecs"])
        change = set_secret(
            load_environment("dev"),
            clients,
            "session-secret",
            lambda: NEW_SESSION_SECRET,
            sleep=fake.sleep,
            clock=fake.clock,
            interval=15.0,
        )
        clients.stubbers["ecs"].assert_no_pending_responses()

    stored = stored_parameter()
    assert (stored["Value"], stored["Type"], stored["KeyId"], stored["Version"]) == (
        NEW_SESSION_SECRET,
        "SecureString",
        made["key"],
        2,
    )
    assert (change.name, change.store, change.location) == ("session-secret", SSM, PARAMETER)
    assert not change.generated
    assert change.backend_restarted
    assert "restarted backend" in change.steps[-1]
    assert fake.slept == [15.0]  # one look while the old tasks drained
    assert shows_nothing_of(change, NEW_SESSION_SECRET, OLD_SESSION_SECRET)
    # The restart comes after the write, or new tasks could start with the old value.
    assert clients.operations().index("PutParameter") < clients.operations().index("UpdateService")


@pytest.mark.usefixtures("aws")
def test_rotate_generates_a_value_and_says_the_backend_is_not_deployed_yet() -> None:
    deploy_data_stack(session_secret=False)  # the first deployment's order: data, secrets, services

    change = rotate_secret(load_environment("dev"), Clients(), "session-secret")

    stored = stored_parameter()["Value"]
    assert len(stored) >= 32
    assert change.generated
    assert not change.backend_restarted
    assert "not deployed yet" in change.steps[-1]
    assert shows_nothing_of(change, stored)


@pytest.mark.usefixtures("aws")
def test_set_without_a_value_generates_one() -> None:
    deploy_data_stack()
    change = set_secret(load_environment("dev"), Clients(), "session-secret")
    assert change.generated
    assert stored_parameter()["Value"] != OLD_SESSION_SECRET


@pytest.mark.usefixtures("aws")
def test_a_value_the_api_would_refuse_is_refused_before_anything_is_written() -> None:
    deploy_data_stack()
    clients = Clients()
    too_short = "hunter2-but-longer"
    with pytest.raises(InvalidInputError) as refused:
        set_secret(load_environment("dev"), clients, "session-secret", lambda: too_short)
    assert str(refused.value) == (
        "The API would refuse that value for session-secret: it needs at least 32 characters."
    )
    assert too_short not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert clients.operations() == ["DescribeStacks"]
    assert stored_parameter()["Value"] == OLD_SESSION_SECRET


@pytest.mark.usefixtures("aws")
def test_an_aws_error_that_quotes_the_value_has_it_blanked_out() -> None:
    deploy_data_stack()
    with Clients("ssm") as clients:
        clients.stubbers["ssm"].add_client_error(
            "put_parameter",
            service_error_code="ValidationException",
            service_message=f"Value '{NEW_SESSION_SECRET}' at 'value' failed to satisfy constraint",
        )
        with pytest.raises(AwsError) as refused:
            set_secret(
                load_environment("dev"), clients, "session-secret", lambda: NEW_SESSION_SECRET
            )
    assert NEW_SESSION_SECRET not in str(refused.value)
    assert "ValidationException: Value '<the new value>' at 'value'" in str(refused.value)
    assert refused.value.__cause__ is None


@pytest.mark.parametrize("operation", [set_secret, rotate_secret])
def test_an_unknown_secret_names_the_known_ones(operation: Any) -> None:
    with pytest.raises(InvalidInputError) as unknown:
        operation(load_environment("dev"), Clients(), "database-password")
    assert str(unknown.value) == (
        "Unknown secret 'database-password'; dev has session-secret, redis-auth-token."
    )


def test_the_redis_token_is_never_set_by_hand() -> None:
    with pytest.raises(RefusedError) as refused:
        set_secret(load_environment("dev"), Clients(), REDIS_AUTH_TOKEN, lambda: "x" * 64)
    assert "`hp secrets rotate dev redis-auth-token`" in str(refused.value)


@pytest.mark.usefixtures("aws")
def test_rotating_the_redis_token_follows_elasticaches_procedure() -> None:
    made = deploy_data_stack()
    fake = FakeTime()
    with Clients("ecs") as clients:
        expect_restart(clients.stubbers["ecs"])
        change = rotate_secret(
            load_environment("dev"), clients, REDIS_AUTH_TOKEN, sleep=fake.sleep, clock=fake.clock
        )
        clients.stubbers["ecs"].assert_no_pending_responses()

    changes = [
        (operation, params.get("AuthTokenUpdateStrategy") or params.get("VersionStage"))
        for operation, params in clients.calls
        if operation
        in {"ModifyReplicationGroup", "PutSecretValue", "UpdateSecretVersionStage", "UpdateService"}
    ]
    assert changes == [
        ("PutSecretValue", None),  # kept first (AWSPENDING): a stopped rotation can resume
        ("ModifyReplicationGroup", "ROTATE"),  # the cache accepts old and new
        ("UpdateSecretVersionStage", "AWSCURRENT"),  # new tasks will read the new one
        ("UpdateService", None),  # ... and are started
        ("ModifyReplicationGroup", "SET"),  # only then is the old one dropped
        ("UpdateSecretVersionStage", "AWSPENDING"),  # the rotation is over
    ]
    operations = clients.operations()
    last_look_at_backend = len(operations) - 1 - operations[::-1].index("DescribeServices")
    assert last_look_at_backend < len(operations) - 1 - operations[::-1].index(
        "ModifyReplicationGroup"
    )
    modifications = [p for o, p in clients.calls if o == "ModifyReplicationGroup"]
    assert {(p["ReplicationGroupId"], p["ApplyImmediately"]) for p in modifications} == {
        (GROUP, True)
    }
    token = modifications[0]["AuthToken"]
    assert modifications[1]["AuthToken"] == token
    assert len(token) == 64 and set(token) <= set(string.ascii_letters + string.digits)
    stored = boto3.client("secretsmanager", REGION).get_secret_value(
        SecretId=made["token"],
        VersionStage="AWSCURRENT",  # moto: without it, its first value
    )
    assert stored["SecretString"] == token != OLD_TOKEN

    assert (change.name, change.store, change.location) == (
        REDIS_AUTH_TOKEN,
        SECRETS_MANAGER,
        made["token"],
    )
    assert change.generated and change.backend_restarted
    assert len(change.steps) == 5
    assert shows_nothing_of(change, token, OLD_TOKEN)


@pytest.mark.usefixtures("aws")
def test_a_rotation_that_stops_keeps_the_old_token_and_says_what_was_done() -> None:
    deploy_data_stack()
    fake = FakeTime()
    with Clients("ecs") as clients:
        stubber = clients.stubbers["ecs"]
        stubber.add_response("update_service", {"service": backend(NEW, OLD)})
        for _ in range(4):  # at 0, 10, 20 and 30 s: the old tasks never drain
            stubber.add_response("describe_services", {"services": [backend(NEW, OLD)]})
        with pytest.raises(AwsError) as stopped:
            rotate_secret(
                load_environment("dev"),
                clients,
                REDIS_AUTH_TOKEN,
                sleep=fake.sleep,
                clock=fake.clock,
                timeout=30.0,
                interval=10.0,
            )
        stubber.assert_no_pending_responses()

    message = str(stopped.value)
    assert message.startswith("Gave up waiting for the backend service to be stable after 30 s.")
    assert "(ROTATE)" in message and "still accepts the old token" in message
    strategies = [
        p["AuthTokenUpdateStrategy"] for o, p in clients.calls if o == "ModifyReplicationGroup"
    ]
    assert strategies == ["ROTATE"]  # never SET: tasks holding the old token keep working
    token = next(p["AuthToken"] for o, p in clients.calls if o == "ModifyReplicationGroup")
    assert token not in message
    assert sum(fake.slept) == 30.0


@pytest.mark.usefixtures("aws")
def test_a_failed_backend_deployment_stops_the_rotation() -> None:
    deploy_data_stack()
    failed = {
        **DONE,
        "rolloutState": "FAILED",
        "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
    }
    with Clients("ecs") as clients:
        clients.stubbers["ecs"].add_response("update_service", {"service": backend(NEW, OLD)})
        clients.stubbers["ecs"].add_response(
            "describe_services", {"services": [backend(failed, OLD)]}
        )
        with pytest.raises(AwsError) as stopped:
            rotate_secret(
                load_environment("dev"), clients, REDIS_AUTH_TOKEN, sleep=FakeTime().sleep
            )
    assert "circuit breaker" in str(stopped.value)
    assert "SET" not in {
        p["AuthTokenUpdateStrategy"] for o, p in clients.calls if o == "ModifyReplicationGroup"
    }


@pytest.mark.usefixtures("aws")
def test_running_a_stopped_rotation_again_resumes_with_the_same_token_and_never_rotates_twice() -> (
    None
):
    made = deploy_data_stack()
    fake = FakeTime()
    with Clients("ecs") as clients:
        stubber = clients.stubbers["ecs"]
        stubber.add_response("update_service", {"service": backend(NEW, OLD)})
        stubber.add_response(
            "describe_services",
            {
                "services": [
                    backend({**DONE, "rolloutState": "FAILED", "rolloutStateReason": "x"}, OLD)
                ]
            },
        )
        with pytest.raises(AwsError, match="run the same command again"):
            rotate_secret(load_environment("dev"), clients, REDIS_AUTH_TOKEN, sleep=fake.sleep)
        first = [p for o, p in clients.calls if o == "ModifyReplicationGroup"]
        assert [p["AuthTokenUpdateStrategy"] for p in first] == ["ROTATE"]

        expect_restart(stubber)
        rotate_secret(
            load_environment("dev"), clients, REDIS_AUTH_TOKEN, sleep=fake.sleep, clock=fake.clock
        )
    modifications = [p for o, p in clients.calls if o == "ModifyReplicationGroup"]
    # The second run: no second ROTATE (it would drop the old token the tasks may hold),
    # the same token, then SET.
    assert [p["AuthTokenUpdateStrategy"] for p in modifications] == ["ROTATE", "SET"]
    assert modifications[0]["AuthToken"] == modifications[1]["AuthToken"]
    store = boto3.client("secretsmanager", REGION)
    current = store.get_secret_value(
        SecretId=made["token"],
        VersionStage="AWSCURRENT",  # moto: without it, its first value
    )["SecretString"]
    assert current == modifications[0]["AuthToken"]
    stages = [
        v["VersionStages"]
        for v in store.list_secret_version_ids(SecretId=made["token"])["Versions"]
    ]
    assert not any("AWSPENDING" in labels for labels in stages)
