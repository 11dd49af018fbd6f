"""RDS: what storage autoscaling changes that a template's numbers do not show."""

from __future__ import annotations

from collections.abc import Iterator

from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule

PARITY = ("StorageType", "MaxAllocatedStorage")


def _replica_storage(env: Environment) -> Iterator[tuple[Resource, str]]:
    for replica in env.resources("AWS::RDS::DBInstance"):
        source_value = replica.properties.get("SourceDBInstanceIdentifier")
        if source_value is None:
            continue
        # CDK names the source by an ARN built with Fn::Join around its Ref.
        sources = [
            pointer.resource
            for pointer in env.pointers_in(replica.stack, source_value)
            if pointer.resource.type == "AWS::RDS::DBInstance"
        ]
        if not sources:
            yield replica, "read replica's source is not an instance of this environment"
            continue
        source = sources[0]
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
STORAGE_ALARM_AT_ANY_SIZE = Rule(
    "HP-RDS-STORAGE-ALARM",
    "Storage alerts keep their meaning when autoscaling grows the volume",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html",
    _storage_alarms,
)
