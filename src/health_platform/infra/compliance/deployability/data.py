"""RDS: what a read replica does not take from its source, what RDS refuses to replicate,
and what storage autoscaling changes that a template's numbers do not show. ElastiCache:
the parameter group that must belong to the engine's family."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)

PARITY = ("StorageType", "MaxAllocatedStorage")
# A replica names its source with one of these, and the source is of this type.
SOURCES = {
    "SourceDBInstanceIdentifier": "AWS::RDS::DBInstance",
    "SourceDBClusterIdentifier": "AWS::RDS::DBCluster",
}


def _replicas(env: Environment, key: str) -> Iterator[tuple[Resource, Resource | None]]:
    """Every read replica that names its source with `key` (one of SOURCES), with the
    source, or None when it is not a resource of this environment's templates."""
    kind = SOURCES[key]
    for replica in env.resources("AWS::RDS::DBInstance"):
        value = replica.properties.get(key)
        if value is None:
            continue
        # CDK names the source by an ARN built with Fn::Join around its Ref.
        sources = [
            pointer.resource
            for pointer in env.pointers_in(replica.stack, value)
            if pointer.resource.type == kind
        ]
        yield replica, (sources[0] if sources else None)


def _replica_storage(env: Environment) -> Iterator[tuple[Resource, str]]:
    for replica, source in _replicas(env, "SourceDBInstanceIdentifier"):
        if source is None:
            yield replica, "read replica's source is not an instance of this environment"
            continue
        for key in PARITY:
            mine, theirs = replica.properties.get(key), source.properties.get(key)
            if theirs is not None and mine != theirs:
                yield (
                    replica,
                    (
                        f"read replica's {key} is {mine or 'not set'} but its source's is {theirs}:"
                        " a replica takes neither from its source, and one that fills up stops"
                    ),
                )


def _true(value: Any) -> bool:
    return value is True or (literal(value) or "").lower() == "true"


def _managed_password_sources(env: Environment) -> Iterator[tuple[Resource, str]]:
    """RDS refuses to create a read replica of an instance or cluster that has RDS manage its
    master password in Secrets Manager, for every engine but SQL Server: "Limitations for
    Secrets Manager integration with Amazon RDS",
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations.
    CloudFormation accepts the template; the replica fails when it is created, after the
    source already exists."""
    for replica, source in (pair for key in SOURCES for pair in _replicas(env, key)):
        if source is None or not _true(source.properties.get("ManageMasterUserPassword")):
            continue
        engine = literal(source.properties.get("Engine")) or ""
        if engine.startswith("sqlserver"):
            continue
        yield (
            replica,
            (
                f"read replica of {source.logical_id}, which has RDS manage its master password"
                " in Secrets Manager (ManageMasterUserPassword): RDS does not create a read"
                " replica of such a source (every engine but SQL Server). Give the source a"
                " generated secret with a rotation schedule instead"
            ),
        )


def _storage_alarms(env: Environment) -> Iterator[tuple[Resource, str]]:
    for alarm in env.resources("AWS::CloudWatch::Alarm"):
        if alarm.properties.get("MetricName") != "FreeStorageSpace":
            continue
        for dimension in alarm.properties.get("Dimensions", []):
            if dimension.get("Name") != "DBInstanceIdentifier":
                continue
            pointer = env.follow(alarm.stack, dimension.get("Value"))
            if pointer and pointer.resource.properties.get("MaxAllocatedStorage"):
                yield (
                    alarm,
                    (
                        "alarms on a fixed amount of free storage, but storage autoscaling grows"
                        " the volume: the threshold means a smaller share of it after each step."
                        " Subscribe to RDS's low-storage events, which speak in percent"
                    ),
                )


REPLICA_STORAGE_PARITY = Rule(
    "HP-RDS-REPLICA-STORAGE",
    "A read replica's storage type and autoscaling match its source's",
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html",
    _replica_storage,
)
REPLICA_OF_MANAGED_PASSWORD = Rule(
    "HP-RDS-REPLICA-MANAGED-PASSWORD",
    "No read replica of a source whose master password RDS manages in Secrets Manager",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations",
    _managed_password_sources,
)
STORAGE_ALARM_AT_ANY_SIZE = Rule(
    "HP-RDS-STORAGE-ALARM",
    "Storage alerts keep their meaning when autoscaling grows the volume",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html",
    _storage_alarms,
)


# ElastiCache's default groups are named after their family: default.valkey8.cluster.on.
_DEFAULT_GROUP = re.compile(r"^default\.([a-z]+[0-9.x]*?)(\.cluster\.on)?$")


def _cache_parameter_families(env: Environment) -> Iterator[tuple[Resource, str]]:
    """ElastiCache refuses a parameter group of another engine or major version than the
    cluster's (a move from Redis OSS 7 to Valkey 8 changes Engine, EngineVersion and the
    group together): https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html.
    CloudFormation accepts the template; the update fails on the live cluster."""
    for cache in env.resources(
        "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster"
    ):
        engine = literal(cache.properties.get("Engine"))
        version = literal(cache.properties.get("EngineVersion"))
        group = cache.properties.get("CacheParameterGroupName")
        if not engine or not version or group is None:
            continue
        pointer = env.follow(cache.stack, group)
        if pointer is not None and pointer.resource.type == "AWS::ElastiCache::ParameterGroup":
            family = literal(pointer.resource.properties.get("CacheParameterGroupFamily")) or ""
        else:
            matched = _DEFAULT_GROUP.match(literal(group) or "")
            if matched is None:
                continue  # a group this template does not describe
            family = matched.group(1)
        major = version.split(".")[0]
        if not family.startswith(f"{engine}{major}"):
            yield (
                cache,
                f"{engine} {version} with a parameter group of family {family}: ElastiCache takes"
                f" only a {engine}{major} group; change the engine, its version and the group in"
                " the same deployment",
            )


CACHE_ENGINE_FAMILY = Rule(
    "HP-CACHE-ENGINE-FAMILY",
    "An ElastiCache cluster's parameter group is of its engine's family",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html",
    _cache_parameter_families,
)
