"""IAM database authentication: a task whose container signs in to RDS with IAM tokens
(DATABASE_AUTH=iam) connects only if its task role may `rds-db:connect` as that user of
that instance (`dbuser:<DbiResourceId>/<user>`) and the instance has IAM authentication
on. Neither is checked when the stacks deploy: the tasks start and every connection is
refused. And a database whose certificate authority the API's bundle lacks refuses
every connection of a client that verifies it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from health_platform.contract import env_name
from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)

AUTH = env_name("database_auth")
HOST = env_name("database_host")
USER = env_name("database_username")


def _statements(env: Environment, task: Resource) -> Iterator[dict[str, Any]]:
    """Every statement of the task role's managed policies."""
    for role in env.pointers_in(task.stack, task.properties.get("TaskRoleArn")):
        for arn in role.resource.properties.get("ManagedPolicyArns", []):
            for policy in env.pointers_in(role.resource.stack, arn):
                yield from policy.resource.properties.get("PolicyDocument", {}).get("Statement", [])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _tail(arn: Any) -> str:
    """The literal end of an ARN, written plainly or as an Fn::Join."""
    if isinstance(arn, dict) and "Fn::Join" in arn:
        return _tail(arn["Fn::Join"][1][-1])
    return arn if isinstance(arn, str) else ""


def _names_user(env: Environment, stack: str, arn: Any, instance: Resource, user: str) -> bool:
    """Whether an rds-db ARN is `dbuser:<this instance's DbiResourceId>/<user>`."""
    return _tail(arn).endswith(f"/{user}") and any(
        pointer.resource == instance and pointer.attribute == "DbiResourceId"
        for pointer in env.pointers_in(stack, arn)
    )


def _allows_connect(env: Environment, task: Resource, instance: Resource, user: str) -> bool:
    return any(
        statement.get("Effect") == "Allow"
        and {"rds-db:connect", "rds-db:*"} & set(_as_list(statement.get("Action")))
        and any(
            arn == "*" or _names_user(env, task.stack, arn, instance, user)
            for arn in _as_list(statement.get("Resource"))
        )
        for statement in _statements(env, task)
    )


def _iam_sign_in(env: Environment) -> Iterator[tuple[Resource, str]]:
    for task in env.resources("AWS::ECS::TaskDefinition"):
        for container in task.properties.get("ContainerDefinitions", []):
            variables = {v["Name"]: v["Value"] for v in container.get("Environment", [])}
            if variables.get(AUTH) != "iam":
                continue
            name, user = container.get("Name"), literal(variables.get(USER))
            instances = [
                pointer.resource
                for pointer in env.pointers_in(task.stack, variables.get(HOST))
                if pointer.resource.type == "AWS::RDS::DBInstance"
            ]
            if user is None or not instances:
                yield task, f"container {name} signs in with IAM but names no user or instance"
                continue
            (instance,) = instances
            if not instance.properties.get("EnableIAMDatabaseAuthentication"):
                yield (
                    task,
                    (
                        f"container {name} signs in with IAM tokens, but instance"
                        f" {instance.logical_id} has IAM database authentication off"
                    ),
                )
            if not _allows_connect(env, task, instance, user):
                yield (
                    task,
                    (
                        f"container {name} signs in with IAM tokens as {user}, but its task"
                        f" role may not rds-db:connect as dbuser:<DbiResourceId of"
                        f" {instance.logical_id}>/{user}: every connection is refused"
                    ),
                )


IAM_DATABASE_SIGN_IN = Rule(
    "HP-RDS-IAM-SIGN-IN",
    "A task that signs in to RDS with IAM tokens may connect as its user, to an instance"
    " with IAM authentication on",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html",
    _iam_sign_in,
)


# The certificate authorities the backend's image trusts (scripts/update-rds-ca-bundle).
RDS_CA_BUNDLE_FILE = Path(__file__).parents[3] / "api" / "rds-ca-bundle.pem"


def root_name(identifier: str, region: str) -> str | None:
    """The subject CN of the root behind an RDS CA identifier in `region`
    (rds-ca-rsa2048-g1 -> "Amazon RDS us-east-1 Root CA RSA2048 G1")."""
    match = re.fullmatch(r"rds-ca-([a-z]+\d+)-(g\d+)", identifier)
    if match is None:
        return None
    return f"Amazon RDS {region} Root CA {match[1].upper()} {match[2].upper()}"


def _trusted_roots() -> set[str]:
    """The subject CNs of the bundle's certificates that are valid today."""
    now = datetime.now(UTC)
    return {
        attribute.value
        for certificate in x509.load_pem_x509_certificates(RDS_CA_BUNDLE_FILE.read_bytes())
        if certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if isinstance(attribute.value, str)
    }


def _ca_in_bundle(env: Environment) -> Iterator[tuple[Resource, str]]:
    trusted = _trusted_roots()
    for instance in env.resources("AWS::RDS::DBInstance"):
        identifier = literal(instance.properties.get("CACertificateIdentifier"))
        region = env.regions.get(instance.stack)
        if identifier is None:
            yield (
                instance,
                "names no CACertificateIdentifier: RDS's default for new instances can change",
            )
            continue
        expected = root_name(identifier, region) if region else None
        if expected is not None and expected in trusted:
            continue
        yield (
            instance,
            (
                f"serves a certificate from {identifier}, whose root for {region}"
                f" ({expected or 'unknown'}) is not a valid certificate of"
                f" {RDS_CA_BUNDLE_FILE.name}: the API's verify-full refuses every connection"
            ),
        )


RDS_CA_TRUSTED = Rule(
    "HP-RDS-CA-TRUSTED",
    "Every database's certificate authority has a valid root in the bundle the API verifies"
    " it with (DATABASE_SSL=verify-full)",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html",
    _ca_in_bundle,
)
