"""The deployability pack: for each rule, a known-bad template (the defect in the shape
CDK synthesizes it) that it must find, and the fixed form it must pass. The real
environments pass it in tests/infra/test_compliance.py (hp infra check)."""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from health_platform.contract import BACKEND, RDS_CA_BUNDLE
from health_platform.images import CONTAINER_DOCKERFILES
from health_platform.infra.compliance.deployability import RULES, Environment, check_environment
from health_platform.infra.compliance.deployability.alerts import SNS_ENDPOINT_CONFIRMS
from health_platform.infra.compliance.deployability.backups import (
    BACKUP_REPLICATION,
    RESTORE_OVERRIDES,
    RESTORE_TESTING,
)
from health_platform.infra.compliance.deployability.connections import (
    DATABASE_CONNECTION_BUDGET,
)
from health_platform.infra.compliance.deployability.containers import (
    CONTAINER_WRITABLE_PATHS,
    SERVICE_ROTATING_SECRETS,
)
from health_platform.infra.compliance.deployability.data import (
    CACHE_ENGINE_FAMILY,
    REPLICA_OF_MANAGED_PASSWORD,
    REPLICA_STORAGE_PARITY,
    STORAGE_ALARM_AT_ANY_SIZE,
)
from health_platform.infra.compliance.deployability.database_auth import (
    IAM_DATABASE_SIGN_IN,
    RDS_CA_BUNDLE_FILE,
    RDS_CA_TRUSTED,
)
from health_platform.infra.compliance.deployability.edge import (
    CLOUDFRONT_LOGGING,
    CLOUDFRONT_ORIGIN_CERTIFICATE,
    CLOUDFRONT_SHARED_CACHE_KEY,
    WAF_BODY_RULES,
)
from health_platform.infra.compliance.deployability.exports import IMPORTS_OF_REPLACEABLE
from health_platform.infra.compliance.deployability.lifecycle import LIFECYCLE_ORDER
from health_platform.infra.compliance.deployability.listeners import LISTENER_TLS_POLICY
from health_platform.infra.compliance.deployability.mail import SES_SENDER_VERIFIED
from health_platform.infra.compliance.deployability.model import Rule
from health_platform.infra.compliance.deployability.network import (
    SECURITY_GROUP_RULE_WEIGHT,
    VPC_FUNCTION_REACHES_AWS,
)
from health_platform.infra.compliance.deployability.operations import (
    OUTPUTS_HP_READS,
    RELEASE_TAGS,
    TASK_LOGS,
)
from health_platform.infra.compliance.deployability.origin_ip import LOAD_BALANCER, ORIGIN_IP
from health_platform.infra.compliance.deployability.replication import (
    IMAGE_REPLICATION,
    SECRET_REPLICAS,
)
from health_platform.infra.compliance.deployability.stopped_database import STOPPED_DATABASE_JOBS
from health_platform.infra.edge.waf_rules import BODY_RULES, COMMON_RULE_SET
from health_platform.paths import REPO

CLOUDFRONT_LIST = "pl-3b927c52"
DOCKERFILES = dict(CONTAINER_DOCKERFILES)
USE_ORIGIN_CACHE_CONTROL_HEADERS = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def environment(templates: dict[str, dict[str, Any]], **dockerfiles: Path) -> Environment:
    return Environment(
        templates, {**DOCKERFILES, **dockerfiles}, prefix_list_weights={CLOUDFRONT_LIST: 55}
    )


def messages(rule: Rule, templates: dict[str, dict[str, Any]], **dockerfiles: Path) -> list[str]:
    return [v.message for v in rule.run(environment(templates, **dockerfiles))]


def stack(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def resource(kind: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties}


# --- listener TLS policy --------------------------------------------------------------------


def listener(**properties: Any) -> dict[str, Any]:
    return {
        "services": stack(Https=resource("AWS::ElasticLoadBalancingV2::Listener", **properties))
    }


@pytest.mark.parametrize(
    "policy",
    # The CDK's RECOMMENDED_TLS (CBC suites in TLS 1.2), and no policy at all (2016-08).
    [{"SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, {}],
)
def test_an_https_listener_offering_cbc_suites_is_found(policy: dict[str, str]) -> None:
    (found,) = messages(LISTENER_TLS_POLICY, listener(Protocol="HTTPS", Port=443, **policy))
    assert "CBC" in found and "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" in found


def test_a_restricted_policy_and_a_plain_http_listener_pass() -> None:
    restricted = listener(Protocol="HTTPS", SslPolicy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
    assert messages(LISTENER_TLS_POLICY, restricted) == []
    assert messages(LISTENER_TLS_POLICY, listener(Protocol="HTTP", Port=80)) == []


# --- database connections -------------------------------------------------------------------


def api_on(
    instance_class: str, *, connections: str | None, max_tasks: int, scheduled: int = 0
) -> dict[str, Any]:
    environment = [{"Name": "DATABASE_HOST", "Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}]
    if connections is not None:
        environment.append({"Name": "DATABASE_CONNECTIONS", "Value": connections})
    target: dict[str, Any] = {
        "MaxCapacity": max_tasks,
        "ResourceId": {
            "Fn::Join": ["", ["service/", {"Ref": "Cluster"}, "/", {"Fn::GetAtt": ["Api", "Name"]}]]
        },
    }
    if scheduled:
        target["ScheduledActions"] = [{"ScalableTargetAction": {"MaxCapacity": scheduled}}]
    return {
        "services": stack(
            Db=resource("AWS::RDS::DBInstance", DBInstanceClass=instance_class),
            Task=resource(
                "AWS::ECS::TaskDefinition",
                ContainerDefinitions=[{"Name": "backend", "Environment": environment}],
            ),
            Api=resource(
                "AWS::ECS::Service",
                TaskDefinition={"Ref": "Task"},
                DeploymentConfiguration={"MaximumPercent": 200},
            ),
            Scaling=resource("AWS::ApplicationAutoScaling::ScalableTarget", **target),
        )
    }


@pytest.mark.parametrize(
    "templates",
    [
        # The API's default pools (30) on 3 tasks, doubled while deploying: 190 of about 95.
        api_on("db.t3.micro", connections=None, max_tasks=3),
        # A schedule that raises the maximum counts too.
        api_on("db.t3.micro", connections="14", max_tasks=3, scheduled=5),
    ],
)
def test_more_connections_than_the_class_admits_are_found(templates: dict[str, Any]) -> None:
    (found,) = messages(DATABASE_CONNECTION_BUDGET, templates)
    assert "db.t3.micro admits about 95" in found


def test_connections_within_the_class_pass_and_an_unknown_class_is_named() -> None:
    assert (
        messages(DATABASE_CONNECTION_BUDGET, api_on("db.t3.micro", connections="14", max_tasks=3))
        == []
    )
    assert (
        messages(DATABASE_CONNECTION_BUDGET, api_on("db.r6g.large", connections=None, max_tasks=20))
        == []
    )
    (unknown,) = messages(
        DATABASE_CONNECTION_BUDGET, api_on("db.z9.huge", connections=None, max_tasks=1)
    )
    assert "cannot tell" in unknown


# --- S3 lifecycle order -----------------------------------------------------------------------


def bucket_with(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": stack(
            Logs=resource(
                "AWS::S3::Bucket", LifecycleConfiguration={"Rules": [{"Id": "tiering", **rule}]}
            )
        )
    }


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        # Logs kept 30 days, still moved to Glacier at 90 (as CDK writes an expiry).
        (
            {
                "ExpirationInDays": 30,
                "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
            },
            "current objects move to GLACIER after 90 days but expire after 30",
        ),
        (
            {
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                "NoncurrentVersionTransitions": [
                    {"StorageClass": "STANDARD_IA", "TransitionInDays": 30}
                ],
            },
            "noncurrent objects move to STANDARD_IA after 30 days but expire after 30",
        ),
        (
            {"Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 7}]},
            "(S3: 30 or more)",
        ),
    ],
)
def test_a_transition_s3_refuses_is_found(rule: dict[str, Any], said: str) -> None:
    (found,) = messages(LIFECYCLE_ORDER, bucket_with(rule))
    assert said in found


def test_transitions_before_the_expiry_pass() -> None:
    rule = {
        "ExpirationInDays": 365,
        "Transitions": [
            {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
            {"StorageClass": "GLACIER", "TransitionInDays": 90},
        ],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 35},
        "NoncurrentVersionTransitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
    }
    assert messages(LIFECYCLE_ORDER, bucket_with(rule)) == []


# --- SES sender ----------------------------------------------------------------------------


def mailing_service(sender: str, *identities: str) -> dict[str, dict[str, Any]]:
    environment = [
        {"Name": "MAIL_BACKEND", "Value": "ses"},
        {"Name": "MAIL_FROM", "Value": sender},
    ]
    return {
        "services": stack(
            Task=resource(
                "AWS::ECS::TaskDefinition",
                ContainerDefinitions=[{"Name": "backend", "Environment": environment}],
            ),
            **{
                f"Identity{n}": resource("AWS::SES::EmailIdentity", EmailIdentity=identity)
                for n, identity in enumerate(identities)
            },
        )
    }


@pytest.mark.parametrize(
    "identities",
    [(), ("health.example.org",), ("example.com.evil",), ("other@dev.health.example.com",)],
)
def test_a_sender_no_identity_covers_is_found(identities: tuple[str, ...]) -> None:
    (found,) = messages(
        SES_SENDER_VERIFIED, mailing_service("no-reply@dev.health.example.com", *identities)
    )
    assert "no-reply@dev.health.example.com" in found and "refuses" in found


@pytest.mark.parametrize(
    "identity",
    ["dev.health.example.com", "health.example.com", "no-reply@dev.health.example.com"],
)
def test_a_sender_on_a_verified_domain_or_its_parent_passes(identity: str) -> None:
    assert (
        messages(SES_SENDER_VERIFIED, mailing_service("no-reply@dev.health.example.com", identity))
        == []
    )


# --- security group rule weight -----------------------------------------------------------


def load_balancer_group(*ports: int) -> dict[str, dict[str, Any]]:
    """The services stack's ALB group with an ingress resource per port from CloudFront."""
    templates = {
        "services": stack(
            Sg=resource("AWS::EC2::SecurityGroup", GroupDescription="alb"),
            **{
                f"In{port}": resource(
                    "AWS::EC2::SecurityGroupIngress",
                    GroupId={"Fn::GetAtt": ["Sg", "GroupId"]},
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    SourcePrefixListId=CLOUDFRONT_LIST,
                )
                for port in ports
            },
        )
    }
    return templates


def test_two_rules_naming_cloudfronts_list_exceed_the_quota() -> None:
    (found,) = messages(SECURITY_GROUP_RULE_WEIGHT, load_balancer_group(80, 443))
    assert "inbound IPv4 rules weigh 110" in found and "RulesPerSecurityGroupLimitExceeded" in found
    assert not messages(SECURITY_GROUP_RULE_WEIGHT, load_balancer_group(443))


def test_rules_added_from_another_stack_count_against_the_group() -> None:
    templates = load_balancer_group(443)
    templates["services"]["Outputs"] = {
        "SgExport": {
            "Value": {"Fn::GetAtt": ["Sg", "GroupId"]},
            "Export": {"Name": "services:Sg"},
        }
    }
    templates["other"] = stack(
        **{
            f"Extra{i}": resource(
                "AWS::EC2::SecurityGroupIngress",
                GroupId={"Fn::ImportValue": "services:Sg"},
                CidrIp=f"10.0.{i}.0/24",
                IpProtocol="tcp",
            )
            for i in range(6)
        }
    )
    (found,) = messages(SECURITY_GROUP_RULE_WEIGHT, templates)
    assert "weigh 61" in found


def test_an_unknown_prefix_list_is_named() -> None:
    templates = load_balancer_group(443)
    templates["services"]["Resources"]["In443"]["Properties"]["SourcePrefixListId"] = "pl-00000000"
    (found,) = messages(SECURITY_GROUP_RULE_WEIGHT, templates)
    assert "pl-00000000 whose weight is unknown" in found


# --- CloudFront -----------------------------------------------------------------------------


def edge(default_behavior: dict[str, Any], *, logging: bool = True) -> dict[str, Any]:
    """The edge stack: the distribution and its own viewer certificate for the alias."""
    config: dict[str, Any] = {
        "Aliases": ["dev.health.example.com"],
        "Origins": [
            {
                "Id": "alb",
                "DomainName": "origin.dev.health.example.com",
                "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
            }
        ],
        "DefaultCacheBehavior": {"TargetOriginId": "alb", **default_behavior},
        "CacheBehaviors": [
            {"PathPattern": "/api/*", "TargetOriginId": "alb", "CachePolicyId": CACHING_DISABLED}
        ],
    }
    if logging:
        config["Logging"] = {"Bucket": "logs.s3.amazonaws.com", "Prefix": "cloudfront/"}
    config["ViewerCertificate"] = {"AcmCertificateArn": {"Ref": "Viewer"}}
    return stack(
        Cdn=resource("AWS::CloudFront::Distribution", DistributionConfig=config),
        Viewer=resource(
            "AWS::CertificateManager::Certificate", DomainName="dev.health.example.com"
        ),
    )


def origin_certificate(name: str) -> dict[str, Any]:
    """The services stack: the load balancer's HTTPS listener and its certificate."""
    return stack(
        Cert=resource("AWS::CertificateManager::Certificate", DomainName=name),
        Https=resource(
            "AWS::ElasticLoadBalancingV2::Listener",
            Port=443,
            Certificates=[{"CertificateArn": {"Ref": "Cert"}}],
        ),
    )


SHARED_CACHE = resource(
    "AWS::CloudFront::CachePolicy",
    CachePolicyConfig={
        "Name": "shared",
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": 31536000,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "CookiesConfig": {"CookieBehavior": "none"},
            "HeadersConfig": {"HeaderBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
            "EnableAcceptEncodingGzip": True,
        },
    },
)


def test_the_frontend_keyed_on_every_cookie_is_found() -> None:
    templates = {
        "edge": edge({"CachePolicyId": USE_ORIGIN_CACHE_CONTROL_HEADERS}),
        "services": origin_certificate("origin.dev.health.example.com"),
    }
    (found,) = messages(CLOUDFRONT_SHARED_CACHE_KEY, templates)
    assert found.startswith("the default behaviour is cached with cookies in its cache key")
    fixed = edge({"CachePolicyId": {"Ref": "Shared"}})
    fixed["Resources"]["Shared"] = SHARED_CACHE
    assert not messages(CLOUDFRONT_SHARED_CACHE_KEY, {"edge": fixed})


def test_an_origin_certificate_must_match_a_name_cloudfront_checks() -> None:
    # Neither the origin's name nor (the Host being forwarded) the viewer's.
    templates = {
        "edge": edge({"CachePolicyId": USE_ORIGIN_CACHE_CONTROL_HEADERS}),
        "services": origin_certificate("alb.internal.example.com"),
    }
    # (The edge's own certificate for the viewer's name is no origin certificate.)
    (found,) = messages(CLOUDFRONT_ORIGIN_CERTIFICATE, templates)
    assert "dev.health.example.com, origin.dev.health.example.com" in found and "502" in found
    # The forwarded Host is a name CloudFront accepts, and so is the origin's own.
    for name in ("dev.health.example.com", "origin.dev.health.example.com", "*.health.example.com"):
        templates["services"] = origin_certificate(name)
        assert not messages(CLOUDFRONT_ORIGIN_CERTIFICATE, templates), name
    # Without the Host forwarded, only the origin's name counts.
    templates = {
        "edge": edge({"CachePolicyId": CACHING_DISABLED}),
        "services": origin_certificate("dev.health.example.com"),
    }
    assert messages(CLOUDFRONT_ORIGIN_CERTIFICATE, templates)


def test_an_unknown_managed_cache_policy_is_named() -> None:
    (found,) = messages(CLOUDFRONT_SHARED_CACHE_KEY, {"edge": edge({"CachePolicyId": "0000"})})
    assert found.startswith("managed cache policy 0000 is not one this pack knows")


def test_a_distribution_without_standard_logs_is_found() -> None:
    bare = edge({"CachePolicyId": CACHING_DISABLED}, logging=False)
    assert messages(CLOUDFRONT_LOGGING, {"edge": bare}) == [
        "has no standard logging: its access logs are not kept"
    ]
    assert not messages(CLOUDFRONT_LOGGING, {"edge": edge({"CachePolicyId": CACHING_DISABLED})})


# --- WAF --------------------------------------------------------------------------------------


def web_acl(*rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "edge": stack(
            Acl=resource(
                "AWS::WAFv2::WebACL",
                Scope="CLOUDFRONT",
                Rules=[{**rule, "Priority": i} for i, rule in enumerate(rules)],
            )
        )
    }


def common_rule_set(*counted: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"VendorName": "AWS", "Name": COMMON_RULE_SET}
    if counted:
        statement["RuleActionOverrides"] = [
            {"Name": name, "ActionToUse": {"Count": {}}} for name in counted
        ]
    return {"Name": "common", "Statement": {"ManagedRuleGroupStatement": statement}}


COMMON_BODY_RULES = BODY_RULES[COMMON_RULE_SET]


def byte_match(field: str, value: str) -> dict[str, Any]:
    return {"ByteMatchStatement": {"SearchString": value, "FieldToMatch": {field: {}}}}


def label_rule(*, spare: bool = True, action: str = "Block") -> dict[str, Any]:
    labels = [
        {"LabelMatchStatement": {"Scope": "LABEL", "Key": key}}
        for key in COMMON_BODY_RULES.values()
    ]
    upload = {
        "AndStatement": {
            "Statements": [byte_match("Method", "POST"), byte_match("UriPath", "/api/documents")]
        }
    }
    statements = [{"OrStatement": {"Statements": labels}}]
    statements.append({"NotStatement": {"Statement": upload}} if spare else upload)
    return {
        "Name": "limit",
        "Action": {action: {}},
        "Statement": {"AndStatement": {"Statements": statements}},
    }


def test_body_rules_left_blocking_refuse_every_upload() -> None:
    found = messages(WAF_BODY_RULES, web_acl(common_rule_set()))
    assert len(found) == len(COMMON_BODY_RULES)
    assert any("SizeRestrictions_BODY reads request bodies" in m for m in found)
    assert all("POST /api/documents is refused at the edge" in m for m in found)


def test_counted_body_rules_need_a_rule_that_blocks_them_outside_uploads() -> None:
    counted = common_rule_set(*COMMON_BODY_RULES)
    unenforced = messages(WAF_BODY_RULES, web_acl(counted))
    assert len(unenforced) == len(COMMON_BODY_RULES)
    assert "now reaches every route" in unenforced[0]
    # A label rule that blocks only on the upload route, or only counts, is no limit.
    assert messages(WAF_BODY_RULES, web_acl(counted, label_rule(spare=False)))
    assert messages(WAF_BODY_RULES, web_acl(counted, label_rule(action="Count")))
    # Before the group that labels, it sees no label (WAF evaluates rules in order).
    assert messages(WAF_BODY_RULES, web_acl(label_rule(), counted))
    assert not messages(WAF_BODY_RULES, web_acl(counted, label_rule()))


# --- containers -----------------------------------------------------------------------------


def task(
    name: str, user: str | None, mounts: list[str], *, secrets: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "Name": name,
        "ReadonlyRootFilesystem": True,
        "MountPoints": [
            {"ContainerPath": path, "SourceVolume": f"scratch{i}", "ReadOnly": False}
            for i, path in enumerate(mounts)
        ],
        "Secrets": secrets or [],
    }
    if user is not None:
        container["User"] = user
    return resource(
        "AWS::ECS::TaskDefinition",
        ContainerDefinitions=[container],
        Volumes=[{"Name": f"scratch{i}"} for i in range(len(mounts))],
    )


def test_the_frontend_as_10001_on_empty_volumes_is_found(tmp_path: Path) -> None:
    # As it was: uid 10001 (the image's user is 101), volumes the image does not declare.
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM nginxinc/nginx-unprivileged:1.28.0-alpine\nUSER 101\n")
    templates = {
        "services": stack(Frontend=task("frontend", "10001", ["/tmp", "/var/cache/nginx"]))
    }
    found = messages(CONTAINER_WRITABLE_PATHS, templates, frontend=dockerfile)
    assert any("runs as 10001 but Dockerfile is built for USER 101" in m for m in found)
    assert sum("cannot write" in m and "mode 755" in m for m in found) == 2
    # The shipped Dockerfile declares /tmp as its user's: that task definition passes.
    fixed = {"services": stack(Frontend=task("frontend", "101", ["/tmp"]))}
    assert not messages(CONTAINER_WRITABLE_PATHS, fixed)


def test_a_volume_declared_without_its_owner_is_still_roots(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM python:3.11-slim\nVOLUME ["/tmp"]\nUSER 10001\n')
    templates = {"services": stack(Backend=task("backend", "10001", ["/tmp"]))}
    (found,) = messages(CONTAINER_WRITABLE_PATHS, templates, backend=dockerfile)
    assert "cannot write /tmp" in found and "install -d -o 10001 -g 10001" in found


def master_secret_templates(receiver: str) -> dict[str, dict[str, Any]]:
    data = stack(
        Db=resource("AWS::RDS::DBInstance", ManageMasterUserPassword=True),
        Token=resource("AWS::SecretsManager::Secret"),
    )
    data["Outputs"] = {
        "DbSecret": {
            "Value": {"Fn::GetAtt": ["Db", "MasterUserSecret.SecretArn"]},
            "Export": {"Name": "data:DbSecret"},
        }
    }
    value_from = {"Fn::Join": ["", [{"Fn::ImportValue": "data:DbSecret"}, ":password::"]]}
    secrets = [{"Name": "DATABASE_PASSWORD", "ValueFrom": value_from}]
    services = stack(
        Task=task("backend", "10001", [], secrets=secrets),
        Service=resource("AWS::ECS::Service", TaskDefinition={"Ref": "Task"}),
    )
    if receiver == "one-off":
        del services["Resources"]["Service"]
    return {"data": data, "services": services}


def test_a_service_given_the_rotating_master_password_is_found() -> None:
    (found,) = messages(SERVICE_ROTATING_SECRETS, master_secret_templates("service"))
    assert "DATABASE_PASSWORD once, at start" in found and "every 7 days" in found
    # A one-off task (the migration) may receive it: it reads it at its start and ends.
    assert not messages(SERVICE_ROTATING_SECRETS, master_secret_templates("one-off"))


def test_a_secret_with_a_rotation_schedule_is_found() -> None:
    templates = master_secret_templates("service")
    container = templates["services"]["Resources"]["Task"]["Properties"]["ContainerDefinitions"][0]
    container["Secrets"] = [{"Name": "API_KEY", "ValueFrom": {"Ref": "Key"}}]
    templates["services"]["Resources"]["Key"] = resource("AWS::SecretsManager::Secret")
    assert not messages(SERVICE_ROTATING_SECRETS, templates)
    templates["services"]["Resources"]["Rotation"] = resource(
        "AWS::SecretsManager::RotationSchedule", SecretId={"Ref": "Key"}
    )
    (found,) = messages(SERVICE_ROTATING_SECRETS, templates)
    assert "it has a rotation schedule" in found
    # CDK's rotating database credentials: the task and the schedule name an attachment.
    resources = templates["services"]["Resources"]
    resources["Attachment"] = resource(
        "AWS::SecretsManager::SecretTargetAttachment", SecretId={"Ref": "Key"}
    )
    resources["Rotation"]["Properties"]["SecretId"] = {"Ref": "Attachment"}
    container["Secrets"] = [{"Name": "DATABASE_PASSWORD", "ValueFrom": {"Ref": "Attachment"}}]
    (found,) = messages(SERVICE_ROTATING_SECRETS, templates)
    assert "DATABASE_PASSWORD once, at start" in found


# --- data ---------------------------------------------------------------------------------


def database(**replica: Any) -> dict[str, dict[str, Any]]:
    return {
        "data": stack(
            Primary=resource("AWS::RDS::DBInstance", StorageType="gp3", MaxAllocatedStorage=1000),
            Replica=resource(
                "AWS::RDS::DBInstance",
                # As CDK writes it: the source's ARN, joined around its Ref.
                SourceDBInstanceIdentifier={
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":rds:us-east-1:1:db:",
                            {"Ref": "Primary"},
                        ],
                    ]
                },
                **replica,
            ),
        )
    }


def test_a_replica_without_the_primarys_storage_is_found() -> None:
    found = messages(REPLICA_STORAGE_PARITY, database())
    assert len(found) == 2
    assert "StorageType is not set but its source's is gp3" in found[0]
    assert "MaxAllocatedStorage is not set but its source's is 1000" in found[1]
    assert not messages(
        REPLICA_STORAGE_PARITY, database(StorageType="gp3", MaxAllocatedStorage=1000)
    )


def test_a_replica_of_a_source_whose_password_rds_manages_is_found() -> None:
    # prod before the fix: CloudFormation creates the primary, then RDS refuses the replica.
    templates = database(StorageType="gp3", MaxAllocatedStorage=1000)
    primary = templates["data"]["Resources"]["Primary"]["Properties"]
    primary.update(Engine="postgres", ManageMasterUserPassword=True)
    (found,) = messages(REPLICA_OF_MANAGED_PASSWORD, templates)
    assert "read replica of Primary" in found and "ManageMasterUserPassword" in found
    # SQL Server is the one engine whose managed password RDS replicates.
    primary["Engine"] = "sqlserver-se"
    assert not messages(REPLICA_OF_MANAGED_PASSWORD, templates)
    # The fix: a generated secret of the stack's, the instance's password read from it.
    del primary["ManageMasterUserPassword"]
    primary.update(
        Engine="postgres",
        MasterUserPassword=join("{{resolve:secretsmanager:", {"Ref": "Secret"}, ":password::}}"),
    )
    templates["data"]["Resources"]["Secret"] = resource("AWS::SecretsManager::Secret")
    assert not messages(REPLICA_OF_MANAGED_PASSWORD, templates)
    # Without a replica, RDS may manage the password.
    del templates["data"]["Resources"]["Replica"]
    primary["ManageMasterUserPassword"] = True
    assert not messages(REPLICA_OF_MANAGED_PASSWORD, templates)


def test_a_replica_of_a_cluster_whose_password_rds_manages_is_found() -> None:
    templates = {
        "data": stack(
            Cluster=resource(
                "AWS::RDS::DBCluster", Engine="postgres", ManageMasterUserPassword="true"
            ),
            Replica=resource("AWS::RDS::DBInstance", SourceDBClusterIdentifier={"Ref": "Cluster"}),
        )
    }
    (found,) = messages(REPLICA_OF_MANAGED_PASSWORD, templates)
    assert "read replica of Cluster" in found
    # A cluster's replica is not the storage rule's business.
    assert not messages(REPLICA_STORAGE_PARITY, templates)


def test_a_fixed_free_storage_alarm_on_a_growing_volume_is_found() -> None:
    templates = database(StorageType="gp3", MaxAllocatedStorage=1000)
    alarm = resource(
        "AWS::CloudWatch::Alarm",
        MetricName="FreeStorageSpace",
        Threshold=3 * 1024**3,
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": {"Ref": "Primary"}}],
    )
    templates["data"]["Resources"]["Alarm"] = alarm
    (found,) = messages(STORAGE_ALARM_AT_ANY_SIZE, templates)
    assert "storage autoscaling grows the volume" in found
    del templates["data"]["Resources"]["Primary"]["Properties"]["MaxAllocatedStorage"]
    assert not messages(STORAGE_ALARM_AT_ANY_SIZE, templates)


# --- alerts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://example.webhook.office.com/webhookb2/abc",
        "https://chat.googleapis.com/v1/spaces/x/messages",
        "https://discord.com/api/webhooks/1/abc",
    ],
)
def test_a_chat_webhook_subscription_is_found(endpoint: str) -> None:
    templates = {
        "observability": stack(
            Sub=resource("AWS::SNS::Subscription", Protocol="https", Endpoint=endpoint)
        )
    }
    (found,) = messages(SNS_ENDPOINT_CONFIRMS, templates)
    assert "cannot confirm an SNS subscription" in found and "AWS Chatbot" in found


def test_pagerduty_and_email_subscriptions_pass() -> None:
    templates = {
        "observability": stack(
            Pd=resource(
                "AWS::SNS::Subscription",
                Protocol="https",
                Endpoint="https://events.pagerduty.com/integration/x/enqueue",
            ),
            Mail=resource("AWS::SNS::Subscription", Protocol="email", Endpoint="a@example.com"),
        )
    }
    assert not messages(SNS_ENDPOINT_CONFIRMS, templates)


# --- the pack ---------------------------------------------------------------------------------


def test_every_rule_is_in_the_pack_once_with_its_source() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES) == 30
    assert all(rule.source.startswith("https://docs.aws.amazon.com/") for rule in RULES)


def test_violations_name_the_stack_and_the_resource() -> None:
    templates = copy.deepcopy(load_balancer_group(80, 443))
    (violation,) = check_environment(environment(templates))
    assert (violation.rule, violation.stack, violation.location) == (
        "HP-SG-RULE-WEIGHT",
        "services",
        "Sg",
    )


# --- IAM database sign-in -------------------------------------------------------------------


def iam_sign_in(user_in_policy: str = "hp_app", *, iam_on: bool = True) -> dict[str, Any]:
    """As CDK writes them: the data stack exports the instance's address and resource id;
    the services stack's task signs in with IAM as hp_app, its role's managed policy
    allowing rds-db:connect on an ARN joined around the imported resource id."""
    data = stack(Db=resource("AWS::RDS::DBInstance", EnableIAMDatabaseAuthentication=iam_on))
    data["Outputs"] = {
        "Address": {
            "Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "Export": {"Name": "data:Address"},
        },
        "ResourceId": {
            "Value": {"Fn::GetAtt": ["Db", "DbiResourceId"]},
            "Export": {"Name": "data:ResourceId"},
        },
    }
    arn = {
        "Fn::Join": [
            "",
            [
                "arn:aws:rds-db:us-east-1:1:dbuser:",
                {"Fn::ImportValue": "data:ResourceId"},
                f"/{user_in_policy}",
            ],
        ]
    }
    container = {
        "Name": "backend",
        "Environment": [
            {"Name": "DATABASE_HOST", "Value": {"Fn::ImportValue": "data:Address"}},
            {"Name": "DATABASE_USERNAME", "Value": "hp_app"},
            {"Name": "DATABASE_AUTH", "Value": "iam"},
        ],
    }
    services = stack(
        Task=resource(
            "AWS::ECS::TaskDefinition",
            ContainerDefinitions=[container],
            TaskRoleArn={"Fn::GetAtt": ["Role", "Arn"]},
        ),
        Role=resource("AWS::IAM::Role", ManagedPolicyArns=[{"Ref": "Policy"}]),
        Policy=resource(
            "AWS::IAM::ManagedPolicy",
            PolicyDocument={
                "Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": arn}]
            },
        ),
    )
    return {"data": data, "services": services}


def test_an_iam_sign_in_needs_connect_rights_as_its_user_and_iam_on_the_instance() -> None:
    assert not messages(IAM_DATABASE_SIGN_IN, iam_sign_in())
    (wrong_user,) = messages(IAM_DATABASE_SIGN_IN, iam_sign_in("hp_admin"))
    assert "may not rds-db:connect" in wrong_user and "/hp_app" in wrong_user
    (iam_off,) = messages(IAM_DATABASE_SIGN_IN, iam_sign_in(iam_on=False))
    assert "has IAM database authentication off" in iam_off
    no_policy = iam_sign_in()
    del no_policy["services"]["Resources"]["Role"]["Properties"]["ManagedPolicyArns"]
    (refused,) = messages(IAM_DATABASE_SIGN_IN, no_policy)
    assert "every connection is refused" in refused


def test_a_database_certificate_authority_needs_a_valid_root_in_the_apis_bundle() -> None:
    def ca_messages(region: str, **properties: Any) -> list[str]:
        templates = {"data": stack(Db=resource("AWS::RDS::DBInstance", **properties))}
        env = Environment(templates, DOCKERFILES, {}, regions={"data": region})
        return [v.message for v in RDS_CA_TRUSTED.run(env)]

    assert not ca_messages("us-east-1", CACertificateIdentifier="rds-ca-rsa2048-g1")
    assert not ca_messages("eu-west-1", CACertificateIdentifier="rds-ca-ecc384-g1")
    # rds-ca-2019's roots expired in 2024: the bundle keeps none of them.
    (expired,) = ca_messages("us-east-1", CACertificateIdentifier="rds-ca-2019")
    assert "rds-ca-2019" in expired and "refuses every connection" in expired
    (unknown_region,) = ca_messages("mars-north-1", CACertificateIdentifier="rds-ca-rsa2048-g1")
    assert "Amazon RDS mars-north-1 Root CA RSA2048 G1" in unknown_region
    (unnamed,) = ca_messages("us-east-1")
    assert "names no CACertificateIdentifier" in unnamed


def test_the_rds_bundle_is_the_one_its_provenance_names() -> None:
    """The committed bundle matches the checksum scripts/update-rds-ca-bundle wrote beside
    it, and the image copies it to where the tasks' DATABASE_SSLROOTCERT points."""
    provenance = tomllib.loads(RDS_CA_BUNDLE_FILE.with_suffix(".toml").read_text())
    pem = RDS_CA_BUNDLE_FILE.read_bytes()
    assert hashlib.sha256(pem).hexdigest() == provenance["sha256"]
    assert len(x509.load_pem_x509_certificates(pem)) == provenance["certificates"]
    dockerfile = DOCKERFILES[BACKEND].read_text()
    copied = f"COPY {RDS_CA_BUNDLE_FILE.relative_to(REPO)} {RDS_CA_BUNDLE}\n"
    assert copied in dockerfile


def _rotation(egress: list[dict[str, Any]] | None, *, endpoint: bool) -> dict[str, Any]:
    group = (
        resource("AWS::EC2::SecurityGroup")
        if egress is None
        else resource("AWS::EC2::SecurityGroup", SecurityGroupEgress=egress)
    )
    data = stack(
        Group=group,
        Rotation=resource(
            "AWS::Serverless::Application",
            Parameters={
                "vpcSecurityGroupIds": {"Fn::Join": [",", [{"Fn::GetAtt": ["Group", "GroupId"]}]]}
            },
        ),
    )
    network = stack(
        Endpoint=resource("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface"),
        Gateway=resource("AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway"),
    )
    if not endpoint:
        del network["Resources"]["Endpoint"]
    return {"data": data, "network": network}


def test_a_function_in_the_vpc_reaches_aws_through_an_endpoint_or_the_nat() -> None:
    vpc_only = [{"CidrIp": "10.0.0.0/16", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}]
    out = [{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}]
    assert not messages(VPC_FUNCTION_REACHES_AWS, _rotation(vpc_only, endpoint=True))
    assert not messages(VPC_FUNCTION_REACHES_AWS, _rotation(out, endpoint=False))
    assert not messages(VPC_FUNCTION_REACHES_AWS, _rotation(None, endpoint=False))  # default
    (stuck,) = messages(VPC_FUNCTION_REACHES_AWS, _rotation(vpc_only, endpoint=False))
    assert "time out" in stuck and "no interface endpoints" in stuck


def test_no_stack_imports_a_resource_its_usual_changes_replace() -> None:
    services = {
        "Resources": {
            "Targets": resource("AWS::ElasticLoadBalancingV2::TargetGroup", Protocol="HTTPS"),
            "Alb": resource("AWS::ElasticLoadBalancingV2::LoadBalancer"),
        },
        "Outputs": {
            "TargetsName": {
                "Value": {"Fn::GetAtt": ["Targets", "TargetGroupFullName"]},
                "Export": {"Name": "services:TargetsName"},
            },
            "AlbName": {
                "Value": {"Fn::GetAtt": ["Alb", "LoadBalancerFullName"]},
                "Export": {"Name": "services:AlbName"},
            },
        },
    }

    def alarm(imported: str) -> dict[str, Any]:
        dimension = {"Name": "X", "Value": {"Fn::ImportValue": imported}}
        return stack(Alarm=resource("AWS::CloudWatch::Alarm", Dimensions=[dimension]))

    assert not messages(
        IMPORTS_OF_REPLACEABLE, {"services": services, "watch": alarm("services:AlbName")}
    )
    (tied,) = messages(
        IMPORTS_OF_REPLACEABLE, {"services": services, "watch": alarm("services:TargetsName")}
    )
    assert "services/Targets.TargetGroupFullName" in tied and "fails" in tied


# --- what hp's day-2 commands read ----------------------------------------------------------

SERVICES_STACK = "health-platform-dev-services"


def services_task(
    *, tag_type: str = "AWS::SSM::Parameter::Value<String>", prefix: str = "backend"
) -> dict[str, dict[str, Any]]:
    """The backend's task as CDK synthesizes it: the image's tag a Ref to a parameter whose
    default is the release parameter, awslogs into the group hp reads."""
    template = stack(
        Logs=resource("AWS::Logs::LogGroup", LogGroupName="/aws/ecs/health-platform-dev/backend"),
        Task=resource(
            "AWS::ECS::TaskDefinition",
            Family="health-platform-dev-backend",
            ContainerDefinitions=[
                {
                    "Name": "backend",
                    "Image": {"Fn::Join": ["", ["1.dkr.ecr/repo:", {"Ref": "BackendImageTag"}]]},
                    "LogConfiguration": {
                        "LogDriver": "awslogs",
                        "Options": {
                            "awslogs-group": {"Ref": "Logs"},
                            "awslogs-stream-prefix": prefix,
                        },
                    },
                }
            ],
        ),
    )
    template["Parameters"] = {
        "BackendImageTag": {"Type": tag_type, "Default": "/health-platform/dev/release/backend"}
    }
    return {SERVICES_STACK: template}


def test_an_image_tag_that_is_a_plain_parameter_never_sees_a_release() -> None:
    assert messages(RELEASE_TAGS, services_task()) == []
    (found,) = messages(RELEASE_TAGS, services_task(tag_type="String"))
    assert "`hp release` would set a tag this stack never reads" in found


def test_a_stream_prefix_other_than_the_container_hides_its_log_from_hp() -> None:
    assert messages(TASK_LOGS, services_task()) == []
    (found,) = messages(TASK_LOGS, services_task(prefix="app"))
    assert "stream prefix 'app'" in found and "backend/backend/<task id>" in found


def test_a_stack_without_an_output_hp_reads_is_found() -> None:
    templates = {
        "health-platform-dev-network": {"Outputs": {"PrivateSubnetIds": {"Value": "a,b"}}},
        SERVICES_STACK: {"Outputs": {"MigrationTaskDefinitionArn": {"Value": "arn"}}},
    }
    assert messages(OUTPUTS_HP_READS, templates) == [
        "the outputs hp reads are missing: MigrationSecurityGroupId"
    ]


# --- copies in the disaster-recovery region ---------------------------------------------------

ACCOUNT = "333333333333"
PRIMARY, DR = "us-east-1", "us-west-2"
DR_ALIAS = "alias/health-platform/prod/dr-data"


def dr_messages(rule: Rule, templates: dict[str, dict[str, Any]]) -> list[str]:
    """The stacks `data` and `services` deploy in the primary region, `dr` in the DR region."""
    env = Environment(
        templates,
        DOCKERFILES,
        {},
        regions={"data": PRIMARY, "services": PRIMARY, "dr": DR},
        account=ACCOUNT,
        dr_region=DR,
    )
    return [v.message for v in rule.run(env)]


def join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def dr_key_arn(region: str = DR) -> dict[str, Any]:
    return join("arn:", {"Ref": "AWS::Partition"}, f":kms:{region}:{ACCOUNT}:{DR_ALIAS}")


def secret_read_by_a_task(**replica: Any) -> dict[str, dict[str, Any]]:
    """The Redis token in the data stack, read by the backend through an export."""
    properties = {"ReplicaRegions": [replica]} if replica else {}
    data = stack(Token=resource("AWS::SecretsManager::Secret", **properties))
    data["Outputs"] = {"TokenArn": {"Value": {"Ref": "Token"}, "Export": {"Name": "data:Token"}}}
    secrets = [{"Name": "REDIS_AUTH_TOKEN", "ValueFrom": {"Fn::ImportValue": "data:Token"}}]
    return {"data": data, "services": stack(Task=task("backend", "10001", [], secrets=secrets))}


def test_a_secret_replica_belongs_in_the_dr_region_under_its_key() -> None:
    assert not dr_messages(SECRET_REPLICAS, secret_read_by_a_task(Region=DR, KmsKeyId=dr_key_arn()))
    own = dr_messages(SECRET_REPLICAS, secret_read_by_a_task(Region=PRIMARY))
    assert "has a replica in us-east-1, its own region" in own[0]
    assert "no replica in the DR region" in own[1]
    elsewhere = dr_messages(SECRET_REPLICAS, secret_read_by_a_task(Region="eu-west-1"))
    assert any("not in the environment's DR region us-west-2" in m for m in elsewhere)
    # The primary's key (as an L2 Secret writes an alias imported in this region).
    (wrong_key,) = dr_messages(
        SECRET_REPLICAS, secret_read_by_a_task(Region=DR, KmsKeyId=dr_key_arn(PRIMARY))
    )
    assert "with a key in us-east-1" in wrong_key
    templates = secret_read_by_a_task(Region=DR, KmsKeyId={"Fn::GetAtt": ["Key", "Arn"]})
    templates["data"]["Resources"]["Key"] = resource("AWS::KMS::Key")
    (same_stack_key,) = dr_messages(SECRET_REPLICAS, templates)
    assert "with a key in us-east-1" in same_stack_key


def test_a_secret_a_task_reads_needs_a_replica_in_the_dr_region() -> None:
    (found,) = dr_messages(SECRET_REPLICAS, secret_read_by_a_task())
    assert "is read as backend's REDIS_AUTH_TOKEN but has no replica in the DR region" in found
    # RDS's managed master secret is an attribute of the instance: not one to replicate.
    templates = master_secret_templates("one-off")
    assert not dr_messages(SECRET_REPLICAS, templates)
    # A generated master secret is ours, and a task reads it through its attachment.
    data = templates["data"]
    data["Resources"]["Db"]["Properties"] = {}
    data["Resources"]["Attachment"] = resource(
        "AWS::SecretsManager::SecretTargetAttachment",
        SecretId={"Ref": "Token"},
        TargetId={"Ref": "Db"},
    )
    data["Outputs"]["DbSecret"]["Value"] = {"Ref": "Attachment"}
    (found,) = dr_messages(SECRET_REPLICAS, templates)
    assert "is read as backend's DATABASE_PASSWORD but has no replica in the DR region" in found
    data["Resources"]["Token"]["Properties"] = {
        "ReplicaRegions": [{"Region": DR, "KmsKeyId": dr_key_arn()}]
    }
    assert not dr_messages(SECRET_REPLICAS, templates)


def image_replication(
    destination: str = DR, *, template: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """As the data and dr stacks write them: a KMS-encrypted immutable repository, the
    registry's replication to `destination`, and (in dr) `template`."""
    data = stack(
        Repo=resource(
            "AWS::ECR::Repository",
            RepositoryName="health-platform/prod/backend",
            ImageTagMutability="IMMUTABLE",
            EncryptionConfiguration={
                "EncryptionType": "KMS",
                "KmsKey": {"Fn::GetAtt": ["K", "Arn"]},
            },
        ),
        Replication=resource(
            "AWS::ECR::ReplicationConfiguration",
            ReplicationConfiguration={
                "Rules": [
                    {
                        "Destinations": [{"Region": destination, "RegistryId": ACCOUNT}],
                        "RepositoryFilters": [
                            {"Filter": "health-platform/prod/", "FilterType": "PREFIX_MATCH"}
                        ],
                    }
                ]
            },
        ),
    )
    dr = stack(DrKey=resource("AWS::KMS::Key"), Role=resource("AWS::IAM::Role"))
    if template is not None:
        dr["Resources"]["Template"] = resource("AWS::ECR::RepositoryCreationTemplate", **template)
    return {"data": data, "dr": dr}


def replica_template(**changes: Any) -> dict[str, Any]:
    return {
        "Prefix": "health-platform/prod",
        "AppliedFor": ["REPLICATION"],
        "ImageTagMutability": "IMMUTABLE",
        "EncryptionConfiguration": {
            "EncryptionType": "KMS",
            "KmsKey": {"Fn::GetAtt": ["DrKey", "Arn"]},
        },
        "CustomRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        **changes,
    }


def test_replicated_repositories_need_a_template_like_their_sources() -> None:
    assert not dr_messages(IMAGE_REPLICATION, image_replication(template=replica_template()))
    (none,) = dr_messages(IMAGE_REPLICATION, image_replication())
    assert "no repository creation template applies to REPLICATION" in none
    assert "mutable and AES-256" in none
    pull_through = replica_template(AppliedFor=["PULL_THROUGH_CACHE"])
    assert dr_messages(IMAGE_REPLICATION, image_replication(template=pull_through))
    (mutable,) = dr_messages(
        IMAGE_REPLICATION,
        image_replication(template=replica_template(ImageTagMutability="MUTABLE")),
    )
    assert "ImageTagMutability MUTABLE, the source has IMMUTABLE" in mutable


def test_a_replica_template_needs_a_key_of_its_region_and_a_role() -> None:
    primary_key = {"EncryptionType": "KMS", "KmsKey": f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/1"}
    (wrong_key,) = dr_messages(
        IMAGE_REPLICATION,
        image_replication(template=replica_template(EncryptionConfiguration=primary_key)),
    )
    assert "with a key in us-east-1: the key must be in the repository's region" in wrong_key
    no_role = replica_template()
    del no_role["CustomRoleArn"]
    (found,) = dr_messages(IMAGE_REPLICATION, image_replication(template=no_role))
    assert "no CustomRoleArn" in found


def test_replication_to_the_source_region_or_twice_in_a_region_is_found() -> None:
    (itself,) = dr_messages(
        IMAGE_REPLICATION, image_replication(PRIMARY, template=replica_template())
    )
    assert "the source registry itself" in itself
    templates = image_replication(template=replica_template())
    templates["services"] = stack(
        Other=templates["data"]["Resources"]["Replication"],
    )
    (twice,) = dr_messages(IMAGE_REPLICATION, templates)
    assert "second replication configuration in us-east-1" in twice


def backup_replication(
    *, call_region: str | None = DR, key_region: str = DR, **parameters: Any
) -> dict[str, dict[str, Any]]:
    """As AwsCustomResource writes them: the DescribeKey lookup and the replication's create
    call, a JSON document joined around the instance's Ref and the lookup's answer."""

    def create(call: dict[str, Any], *tokens: tuple[str, Any]) -> dict[str, Any]:
        text = json.dumps(call)
        parts: list[Any] = []
        for marker, token in tokens:
            before, text = text.split(marker, 1)
            parts += [before, token]
        return join(*parts, text)

    lookup = {"service": "KMS", "action": "DescribeKey", "parameters": {"KeyId": DR_ALIAS}}
    lookup["region"] = key_region
    start: dict[str, Any] = {
        "service": "RDS",
        "action": "StartDBInstanceAutomatedBackupsReplication",
        "parameters": {
            "SourceDBInstanceArn": f"arn:@P@:rds:{PRIMARY}:{ACCOUNT}:db:@DB@",
            "KmsKeyId": "@KEY@",
            "BackupRetentionPeriod": 30,
            **parameters,
        },
    }
    if call_region:
        start["region"] = call_region
    tokens = [
        ("@P@", {"Ref": "AWS::Partition"}),
        ("@DB@", {"Ref": "Db"}),
        ("@KEY@", {"Fn::GetAtt": ["Lookup", "KeyMetadata.Arn"]}),
    ]
    present = [t for t in tokens if t[0] in json.dumps(start)]
    return {
        "data": stack(
            Db=resource("AWS::RDS::DBInstance", StorageEncrypted=True, BackupRetentionPeriod=30),
            Lookup=resource("Custom::AWS", Create=json.dumps(lookup)),
            Replication=resource("Custom::AWS", Create=create(start, *present)),
        )
    }


def test_backup_replication_runs_in_the_dr_region_with_a_key_there() -> None:
    assert not dr_messages(BACKUP_REPLICATION, backup_replication())
    (no_region,) = dr_messages(BACKUP_REPLICATION, backup_replication(call_region=None))
    assert "RDS takes this call in the destination region" in no_region
    same = dr_messages(BACKUP_REPLICATION, backup_replication(call_region=PRIMARY))
    assert any("into us-east-1 itself" in m for m in same)
    (wrong_key,) = dr_messages(BACKUP_REPLICATION, backup_replication(key_region=PRIMARY))
    assert "with a key in us-east-1: the key must be in the destination region" in wrong_key
    (alias,) = dr_messages(BACKUP_REPLICATION, backup_replication(KmsKeyId=DR_ALIAS))
    assert "the API takes the key's ARN" in alias


def test_backup_replication_needs_backups_a_key_and_a_retention_rds_takes() -> None:
    (long,) = dr_messages(BACKUP_REPLICATION, backup_replication(BackupRetentionPeriod=40))
    assert "RDS accepts 1 to 35" in long
    templates = backup_replication(KmsKeyId="")
    (unencrypted,) = dr_messages(BACKUP_REPLICATION, templates)
    assert "encrypted Db without KmsKeyId" in unencrypted
    templates = backup_replication()
    templates["data"]["Resources"]["Db"]["Properties"]["BackupRetentionPeriod"] = 0
    (off,) = dr_messages(BACKUP_REPLICATION, templates)
    assert "automated backups, which are off" in off


def restore_testing(
    *, plan_name: str = "health_platform_prod_database", **selection: Any
) -> dict[str, dict[str, Any]]:
    properties: dict[str, Any] = {
        "RestoreTestingPlanName": {"Ref": "Plan"},
        "RestoreTestingSelectionName": "database",
        "ProtectedResourceType": "RDS",
        "ProtectedResourceArns": [{"Fn::GetAtt": ["Db", "DBInstanceArn"]}],
        "IamRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        "ValidationWindowHours": 4,
        "RestoreMetadataOverrides": {
            "dbSubnetGroupName": {"Ref": "Subnets"},
            "vpcSecurityGroupIds": join('["', {"Fn::GetAtt": ["Sg", "GroupId"]}, '"]'),
        },
        **selection,
    }
    trust = {"Statement": [{"Principal": {"Service": "backup.amazonaws.com"}}]}
    return {
        "data": stack(
            Plan=resource("AWS::Backup::RestoreTestingPlan", RestoreTestingPlanName=plan_name),
            Selection=resource("AWS::Backup::RestoreTestingSelection", **properties),
            Role=resource("AWS::IAM::Role", AssumeRolePolicyDocument=trust),
            Db=resource("AWS::RDS::DBInstance"),
        )
    }


def test_restore_testing_as_aws_backup_accepts_it() -> None:
    assert not dr_messages(RESTORE_TESTING, restore_testing())
    (hyphens,) = dr_messages(RESTORE_TESTING, restore_testing(plan_name="health-platform-prod"))
    assert "only letters, digits and underscores" in hyphens
    (week,) = dr_messages(RESTORE_TESTING, restore_testing(ValidationWindowHours=200))
    assert "AWS Backup accepts 0 to 168" in week
    (orphan,) = dr_messages(RESTORE_TESTING, restore_testing(RestoreTestingPlanName="other"))
    assert "names no restore testing plan" in orphan
    both = restore_testing(ProtectedResourceArns=["*", {"Fn::GetAtt": ["Db", "DBInstanceArn"]}])
    (mixed,) = dr_messages(RESTORE_TESTING, both)
    assert "both the wildcard and specific resources" in mixed
    templates = restore_testing()
    templates["data"]["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"] = {
        "Statement": [{"Principal": {"Service": "lambda.amazonaws.com"}}]
    }
    (role,) = dr_messages(RESTORE_TESTING, templates)
    assert "which AWS Backup may not assume" in role


def test_list_valued_restore_overrides_are_json_arrays() -> None:
    assert not dr_messages(RESTORE_OVERRIDES, restore_testing())
    bare = {"vpcSecurityGroupIds": {"Fn::GetAtt": ["Sg", "GroupId"]}}
    (found,) = dr_messages(RESTORE_OVERRIDES, restore_testing(RestoreMetadataOverrides=bare))
    assert "vpcSecurityGroupIds with something other than a JSON array" in found
    listed = {"VPCSecurityGroupIds": '["sg-0123456789abcdef0"]', "dbInstanceClass": "db.t3.micro"}
    assert not dr_messages(RESTORE_OVERRIDES, restore_testing(RestoreMetadataOverrides=listed))


# --- a database stopped by a schedule -------------------------------------------------------


def sleeping_database(**changes: Any) -> dict[str, Any]:
    """Dev's office hours (MON-FRI 07:00-19:00 New York) as the data stack writes them;
    `changes` replaces a resource's properties by dotted path (None removes the key)."""

    def schedule(action: str, cron: str) -> dict[str, Any]:
        return resource(
            "AWS::Scheduler::Schedule",
            ScheduleExpression=cron,
            ScheduleExpressionTimezone="America/New_York",
            Target={
                "Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                          f":scheduler:::aws-sdk:rds:{action}"]]},
                "Input": {"Fn::Join": ["", ['{"DbInstanceIdentifier":"', {"Ref": "Db"}, '"}']]},
            },
        )  # fmt: skip

    resources = {
        "Db": resource(
            "AWS::RDS::DBInstance",
            PreferredBackupWindow="12:30-13:30",
            PreferredMaintenanceWindow="mon:14:00-mon:15:00",
        ),
        "Stop": schedule("stopDBInstance", "cron(15 19 ? * MON,TUE,WED,THU,FRI *)"),
        "Start": schedule("startDBInstance", "cron(30 6 ? * MON,TUE,WED,THU,FRI *)"),
        "Attachment": resource(
            "AWS::SecretsManager::SecretTargetAttachment", TargetId={"Ref": "Db"}
        ),
        "Rotation": resource(
            "AWS::SecretsManager::RotationSchedule",
            SecretId={"Ref": "Attachment"},
            RotationRules={"ScheduleExpression": "cron(0 17 ? * MON *)", "Duration": "2h"},
            RotateImmediatelyOnUpdate=False,
        ),
        "Plan": resource(
            "AWS::Backup::BackupPlan",
            BackupPlan={
                "BackupPlanRule": [
                    {
                        "RuleName": "daily",
                        "ScheduleExpression": "cron(0 11 ? * MON,TUE,WED,THU,FRI *)",
                        "ScheduleExpressionTimezone": "America/New_York",
                        "StartWindowMinutes": 60,
                        "CompletionWindowMinutes": 120,
                    }
                ]
            },
        ),
        "Selection": resource(
            "AWS::Backup::BackupSelection",
            BackupPlanId={"Fn::GetAtt": ["Plan", "BackupPlanId"]},
            BackupSelection={"Resources": [{"Fn::Join": ["", ["arn:db:", {"Ref": "Db"}]]}]},
        ),
    }
    for path, value in changes.items():
        logical_id, *keys = path.split(".")
        if not keys:
            resources.pop(logical_id)
            continue
        properties = resources[logical_id]["Properties"]
        *parents, last = keys
        for key in parents:  # a list (the plan's rules) stands for its first item
            properties = properties[key]
            properties = properties[0] if isinstance(properties, list) else properties
        if value is None:
            properties.pop(last)
        else:
            properties[last] = value
    return {"data": stack(**resources)}


def test_office_hours_as_the_data_stack_writes_them_pass() -> None:
    assert messages(STOPPED_DATABASE_JOBS, sleeping_database()) == []


RULE = "Plan.BackupPlan.BackupPlanRule"


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        ({"Db.PreferredBackupWindow": "03:00-04:00"}, "backup window 03:00-04:00 (UTC)"),
        # 11:00-12:00 UTC is 07:00 in New York's summer but 06:00 in its winter.
        ({"Db.PreferredBackupWindow": "11:00-12:00"}, "backup window 11:00-12:00 (UTC)"),
        ({"Db.PreferredBackupWindow": None}, "no automated backup window"),
        ({"Db.PreferredMaintenanceWindow": "sun:04:30-sun:05:30"}, "window sun:04:30-sun:05:30"),
        ({"Db.PreferredMaintenanceWindow": "sat:14:00-sat:15:00"}, "window sat:14:00-sat:15:00"),
        ({"Rotation.RotationRules": {"ScheduleExpression": "rate(7 days)"}}, "(any hour)"),
        (
            {"Rotation.RotationRules": {"ScheduleExpression": "cron(0 23 ? * MON *)"}},
            "rotation cron(0 23 ? * MON *) (UTC)",
        ),
        ({"Rotation.RotateImmediatelyOnUpdate": None}, "rotation on every deployment"),
        ({f"{RULE}.ScheduleExpression": "cron(0 5 * * ? *)"}, "rule daily cron(0 5 * * ? *)"),
        ({f"{RULE}.ScheduleExpressionTimezone": None}, "AWS Backup's rule daily"),
        ({f"{RULE}.CompletionWindowMinutes": 600}, "AWS Backup's rule daily"),
    ],
)
def test_a_job_outside_the_hours_of_a_stopped_database_is_found(
    changes: dict[str, Any], found: str
) -> None:
    said = messages(STOPPED_DATABASE_JOBS, sleeping_database(**changes))
    assert len(said) == 1, said
    assert said[0].startswith("is stopped outside MON,TUE,WED,THU,FRI 06:30-19:15")
    assert found in said[0]


def test_a_database_stopped_with_nothing_to_start_it_is_found() -> None:
    (said,) = messages(STOPPED_DATABASE_JOBS, sleeping_database(Start=None))
    assert said.startswith("stops Db, but no weekly schedule of the same form starts it")


def test_a_database_no_schedule_stops_may_keep_its_windows_anywhere() -> None:
    templates = sleeping_database(
        Stop=None, Start=None, **{"Db.PreferredBackupWindow": "03:00-04:00"}
    )
    assert messages(STOPPED_DATABASE_JOBS, templates) == []


# --- an ElastiCache parameter group of the engine's family ---------------------------------


def cache(engine: str, version: str, group: object, **others: Any) -> dict[str, Any]:
    replication = resource(
        "AWS::ElastiCache::ReplicationGroup",
        Engine=engine,
        EngineVersion=version,
        CacheParameterGroupName=group,
    )
    return {"data": stack(Cache=replication, **others)}


@pytest.mark.parametrize(
    ("engine", "version", "group"),
    [
        ("valkey", "8.0", "default.valkey8.cluster.on"),
        ("valkey", "7.2", "default.valkey7"),
        ("redis", "7.1", "default.redis7.cluster.on"),
        ("redis", "6.2", "default.redis6.x.cluster.on"),
    ],
)
def test_a_parameter_group_of_the_engines_family_passes(
    engine: str, version: str, group: str
) -> None:
    assert messages(CACHE_ENGINE_FAMILY, cache(engine, version, group)) == []


def test_an_engine_moved_without_its_parameter_group_is_found() -> None:
    (said,) = messages(CACHE_ENGINE_FAMILY, cache("valkey", "8.0", "default.redis7.cluster.on"))
    assert said.startswith("valkey 8.0 with a parameter group of family redis7")
    (said,) = messages(CACHE_ENGINE_FAMILY, cache("valkey", "8.0", "default.valkey7"))
    assert "family valkey7" in said


def test_a_parameter_group_of_the_template_is_read_by_its_family() -> None:
    group = resource("AWS::ElastiCache::ParameterGroup", CacheParameterGroupFamily="redis7")
    templates = cache("valkey", "8.0", {"Ref": "Parameters"}, Parameters=group)
    (said,) = messages(CACHE_ENGINE_FAMILY, templates)
    assert "family redis7" in said


# --- CloudFront to the load balancer: IPv4 or IPv6 ------------------------------------------


def origin_path(
    reached: str | None = "ipv6",
    balancer: str = "dualstack-without-public-ipv4",
    records: tuple[str, ...] = ("A", "AAAA"),
    subnet_ipv6: bool = True,
) -> dict[str, Any]:
    """CloudFront's origin `origin.example.com`, its records aliasing the load balancer, and
    the load balancer in one public subnet."""
    subnet = resource("AWS::EC2::Subnet", CidrBlock="10.0.0.0/24")
    if subnet_ipv6:
        subnet["Properties"]["Ipv6CidrBlock"] = "2600:1f18::/64"
    alias = {"DNSName": {"Fn::GetAtt": ["Alb", "DNSName"]}, "HostedZoneId": "Z1"}
    services = stack(
        Public=subnet,
        Alb=resource(LOAD_BALANCER, IpAddressType=balancer, Subnets=[{"Ref": "Public"}]),
        **{
            f"Record{kind}": resource(
                "AWS::Route53::RecordSet", Name="origin.example.com.", Type=kind, AliasTarget=alias
            )
            for kind in records
        },
    )
    custom = {"OriginProtocolPolicy": "https-only"} | (
        {"IpAddressType": reached} if reached else {}
    )
    origin = {"Id": "alb", "DomainName": "origin.example.com", "CustomOriginConfig": custom}
    edge = stack(
        Cdn=resource("AWS::CloudFront::Distribution", DistributionConfig={"Origins": [origin]})
    )
    return {"services": services, "edge": edge}


@pytest.mark.parametrize(
    ("reached", "balancer"),
    [("ipv6", "dualstack-without-public-ipv4"), ("dualstack", "dualstack"), (None, "ipv4")],
)
def test_an_origin_reached_by_a_family_the_load_balancer_has_passes(
    reached: str | None, balancer: str
) -> None:
    assert messages(ORIGIN_IP, origin_path(reached, balancer)) == []


def test_an_ipv6_origin_without_an_aaaa_record_is_found() -> None:
    (said,) = messages(ORIGIN_IP, origin_path("ipv6", records=("A",)))
    assert said.startswith("reaches origin.example.com over IPv6 but no AAAA record")


def test_an_ipv4_origin_on_a_load_balancer_without_public_ipv4_is_found() -> None:
    (said,) = messages(ORIGIN_IP, origin_path(None))
    assert "no public IPv4 address (dualstack-without-public-ipv4)" in said


def test_a_dual_stack_load_balancer_in_a_subnet_without_ipv6_is_found() -> None:
    (said,) = messages(ORIGIN_IP, origin_path(subnet_ipv6=False))
    assert said == (
        "is dualstack-without-public-ipv4 in subnet Public, which has no IPv6 range: the load"
        " balancer's creation or update fails"
    )


def test_an_ipv6_origin_whose_aaaa_record_names_an_ipv4_load_balancer_is_found() -> None:
    for reached in ("ipv6", "dualstack"):
        (said,) = messages(ORIGIN_IP, origin_path(reached, balancer="ipv4"))
        assert "the load balancer its AAAA record names is ipv4" in said


def test_a_rotation_without_a_duration_is_open_to_the_end_of_the_utc_day() -> None:
    rules = {"ScheduleExpression": "cron(0 17 ? * MON *)"}  # 12:00 in New York, to 19:00-20:00
    (said,) = messages(
        STOPPED_DATABASE_JOBS, sleeping_database(**{"Rotation.RotationRules": rules})
    )
    assert "rotation cron(0 17 ? * MON *) (UTC)" in said
