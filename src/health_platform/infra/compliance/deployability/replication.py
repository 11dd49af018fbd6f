"""Copies into the disaster-recovery region that CloudFormation accepts and AWS then refuses or
gets wrong: Secrets Manager replicas and ECR registry replication."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)
from health_platform.infra.compliance.deployability.regions import key_region

# What ECR gives a repository it creates without a matching template.
ECR_DEFAULTS = {"ImageTagMutability": "MUTABLE", "EncryptionType": "AES256"}


def _secret_replicas(env: Environment) -> Iterator[tuple[Resource, str]]:
    for secret in env.resources("AWS::SecretsManager::Secret"):
        home = env.regions.get(secret.stack)
        for replica in secret.properties.get("ReplicaRegions", []):
            region = literal(replica.get("Region"))
            if region is None:
                continue
            if region == home:
                yield (
                    secret,
                    f"has a replica in {region}, its own region: a replica is a copy in"
                    " another region",
                )
            elif env.dr_region and region != env.dr_region:
                yield (
                    secret,
                    f"has a replica in {region}, not in the environment's DR region"
                    f" {env.dr_region}",
                )
            where = key_region(env, secret.stack, replica.get("KmsKeyId"))
            if where and where != region:
                yield (
                    secret,
                    f"encrypts its replica in {region} with a key in {where}: Secrets Manager"
                    " takes a key of the replica's own region (an ARN, key id or alias there)",
                )
    if env.dr_region:
        yield from _unreplicated_task_secrets(env, env.dr_region)


def _unreplicated_task_secrets(env: Environment, dr_region: str) -> Iterator[tuple[Resource, str]]:
    """A secret a task reads (directly or through its attachment to a database) must be in
    the DR region before the task can run there; RDS's managed master secret (an attribute
    of the instance) is not one of ours to replicate."""
    secrets: dict[str, Resource] = {}
    readers: dict[str, list[str]] = defaultdict(list)
    for task in env.resources("AWS::ECS::TaskDefinition"):
        for container in task.properties.get("ContainerDefinitions", []):
            for entry in container.get("Secrets", []):
                for secret in env.secrets_named(task.stack, entry.get("ValueFrom")):
                    secrets[secret.where] = secret
                    readers[secret.where].append(f"{container.get('Name')}'s {entry.get('Name')}")
    for where, names in readers.items():
        secret = secrets[where]
        regions = {literal(r.get("Region")) for r in secret.properties.get("ReplicaRegions", [])}
        if dr_region not in regions:
            yield (
                secret,
                f"is read as {', '.join(sorted(set(names)))} but has no replica in the DR region"
                f" {dr_region}: after a regional loss the services could not start there",
            )


def _same_registry(env: Environment, registry: Any) -> bool:
    return registry == {"Ref": "AWS::AccountId"} or (
        env.account is not None and literal(registry) == env.account
    )


def _covers(prefix: str, repository: str) -> bool:
    """A template's prefix matches a repository name (ECR reads it with a trailing slash)."""
    return prefix == "ROOT" or repository.startswith(prefix.rstrip("/") + "/")


def _template_for(env: Environment, region: str, repository: str) -> Resource | None:
    """The most specific REPLICATION template in `region` that matches `repository`."""
    found = [
        template
        for template in env.resources("AWS::ECR::RepositoryCreationTemplate")
        if env.regions.get(template.stack) == region
        and "REPLICATION" in template.properties.get("AppliedFor", [])
        and _covers(literal(template.properties.get("Prefix")) or "", repository)
    ]
    longest = lambda t: len(literal(t.properties.get("Prefix")) or "")  # noqa: E731
    return max(found, key=longest, default=None)


def _settings(properties: dict[str, Any], encryption_key: str) -> dict[str, str]:
    encryption = properties.get(encryption_key) or {}
    return {
        "ImageTagMutability": properties.get(
            "ImageTagMutability", ECR_DEFAULTS["ImageTagMutability"]
        ),
        "EncryptionType": encryption.get("EncryptionType", ECR_DEFAULTS["EncryptionType"]),
    }


def _image_replication(env: Environment) -> Iterator[tuple[Resource, str]]:
    configurations = list(env.resources("AWS::ECR::ReplicationConfiguration"))
    by_region: dict[str | None, list[Resource]] = defaultdict(list)
    for configuration in configurations:
        by_region[env.regions.get(configuration.stack)].append(configuration)
    for region, same in by_region.items():
        for extra in same[1:]:
            yield (
                extra,
                f"is a second replication configuration in {region}: a registry has one, and"
                " each deployment of one replaces the other's rules",
            )
    for configuration in configurations:
        yield from _destinations(env, configuration)
    for template in env.resources("AWS::ECR::RepositoryCreationTemplate"):
        yield from _template_key(env, template)


def _destinations(env: Environment, configuration: Resource) -> Iterator[tuple[Resource, str]]:
    home = env.regions.get(configuration.stack)
    sources = [
        repository
        for repository in env.resources("AWS::ECR::Repository")
        if env.regions.get(repository.stack) == home
    ]
    rules = configuration.properties.get("ReplicationConfiguration", {}).get("Rules", [])
    for rule in rules:
        filters = [literal(f.get("Filter")) or "" for f in rule.get("RepositoryFilters", [])]
        for destination in rule.get("Destinations", []):
            region = literal(destination.get("Region"))
            if region is None or not _same_registry(env, destination.get("RegistryId")):
                continue
            if region == home:
                yield (
                    configuration,
                    f"replicates to {region}, the source registry itself, which ECR refuses",
                )
                continue
            if env.dr_region and region != env.dr_region:
                yield (
                    configuration,
                    f"replicates to {region}, not the environment's DR region {env.dr_region}",
                )
            for source in sources:
                name = literal(source.properties.get("RepositoryName")) or ""
                if filters and not any(name.startswith(f) for f in filters):
                    continue
                yield from _replica_settings(env, configuration, source, name, region)


def _replica_settings(
    env: Environment, configuration: Resource, source: Resource, name: str, region: str
) -> Iterator[tuple[Resource, str]]:
    wanted = _settings(source.properties, "EncryptionConfiguration")
    template = _template_for(env, region, name)
    if template is None:
        if wanted != ECR_DEFAULTS:
            yield (
                configuration,
                f"replicates {name} to {region}, where no repository creation template applies"
                " to REPLICATION: ECR would create the copy mutable and AES-256 encrypted",
            )
        return
    got = _settings(template.properties, "EncryptionConfiguration")
    for setting, value in wanted.items():
        if got[setting] != value:
            yield (
                template,
                f"creates the replica of {name} with {setting} {got[setting]}, the source has"
                f" {value}",
            )


def _template_key(env: Environment, template: Resource) -> Iterator[tuple[Resource, str]]:
    encryption = template.properties.get("EncryptionConfiguration") or {}
    key = encryption.get("KmsKey")
    if key is None:
        return
    region = env.regions.get(template.stack)
    where = key_region(env, template.stack, key)
    if where and region and where != region:
        yield (
            template,
            f"encrypts repositories in {region} with a key in {where}: the key must be in the"
            " repository's region",
        )
    if not template.properties.get("CustomRoleArn"):
        yield (
            template,
            "names a KMS key but no CustomRoleArn: ECR creates the repositories with a role of"
            " yours, which may create grants on the key",
        )


SECRET_REPLICAS = Rule(
    "HP-DR-SECRET-REPLICAS",
    "Secret replicas are in the DR region under its key, for every secret a task reads",
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicaRegionType.html",
    _secret_replicas,
)
IMAGE_REPLICATION = Rule(
    "HP-DR-IMAGE-REPLICATION",
    "One registry replication per region, to another, into repositories made like the sources",
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates.html",
    _image_replication,
)
