"""The services stack: ECS on Fargate, the load balancer, least-privilege roles, autoscaling."""

from __future__ import annotations

import json
from typing import Any

from health_platform.contract import PORTS, RUNTIME_ROLE
from health_platform.images import image_of
from health_platform.infra.naming import DATA, NETWORK, SERVICES
from tests.infra.conftest import Synthesis


def by_prefix(synthesis: Synthesis, env: str, kind: str, prefix: str) -> dict[str, Any]:
    found = [
        r for lid, r in synthesis.resources(env, SERVICES, kind).items() if lid.startswith(prefix)
    ]
    assert len(found) == 1, f"{kind} {prefix}: {len(found)}"
    return found[0]["Properties"]  # type: ignore[no-any-return]


def container(synthesis: Synthesis, env: str, service: str) -> dict[str, Any]:
    task = by_prefix(synthesis, env, "AWS::ECS::TaskDefinition", f"{service.capitalize()}Task")
    (definition,) = task["ContainerDefinitions"]
    return definition  # type: ignore[no-any-return]


def test_cluster_has_container_insights_and_both_capacity_providers(
    synthesis: Synthesis, env: str
) -> None:
    template = synthesis.template(env, SERVICES)
    template.has_resource_properties(
        "AWS::ECS::Cluster",
        {
            "ClusterName": f"health-platform-{env}",
            "ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}],
        },
    )
    template.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {"CapacityProviders": ["FARGATE", "FARGATE_SPOT"]},
    )


def test_task_sizes_ports_and_hardening(synthesis: Synthesis, env: str) -> None:
    ecs = synthesis.environments[env].ecs
    for service, port in PORTS.items():
        task = by_prefix(synthesis, env, "AWS::ECS::TaskDefinition", f"{service.capitalize()}Task")
        assert (task["Cpu"], task["Memory"]) == (str(ecs.cpu), str(ecs.memory_mib))
        assert task["RequiresCompatibilities"] == ["FARGATE"]
        definition = container(synthesis, env, service)
        assert definition["PortMappings"][0]["ContainerPort"] == port
        # The image's own user and VOLUMEs: Fargate gives a volume the image's ownership.
        image = image_of(service)
        assert definition["User"] == image.user != "0"
        assert definition["ReadonlyRootFilesystem"] is True
        assert definition["StopTimeout"] == 120
        assert f"127.0.0.1:{port}/health" in " ".join(definition["HealthCheck"]["Command"])
        logs = definition["LogConfiguration"]
        assert logs["LogDriver"] == "awslogs"
        assert sorted(m["ContainerPath"] for m in definition["MountPoints"]) == sorted(
            image.volumes
        )


def test_log_groups_are_named_encrypted_and_kept(synthesis: Synthesis, env: str) -> None:
    retention = synthesis.environments[env].ecs.log_retention_days
    groups = synthesis.resources(env, SERVICES, "AWS::Logs::LogGroup").values()
    names = {g["Properties"]["LogGroupName"]: g for g in groups}
    for service in PORTS:
        group = names[f"/aws/ecs/health-platform-{env}/{service}"]
        assert group["Properties"]["RetentionInDays"] == retention
        assert "KmsKeyId" in group["Properties"]


def test_secrets_are_injected_never_plain(synthesis: Synthesis, env: str) -> None:
    definition = container(synthesis, env, "backend")
    secrets = {s["Name"]: json.dumps(s["ValueFrom"]) for s in definition["Secrets"]}
    # No database password: the service signs in with IAM tokens (the master's rotates).
    assert set(secrets) == {"REDIS_AUTH_TOKEN", "SESSION_SECRET"}
    assert f"parameter/health-platform/{env}/app/session-secret" in secrets["SESSION_SECRET"]
    plain = {e["Name"]: e["Value"] for e in definition["Environment"]}
    assert not plain.keys() & set(secrets)
    assert not [n for n in plain if "PASSWORD" in n or "TOKEN" in n or "SECRET" in n]
    assert (plain["DATABASE_USERNAME"], plain["DATABASE_AUTH"]) == (RUNTIME_ROLE, "iam")


def test_the_migration_task_runs_as_the_owner_with_the_master_secret(
    synthesis: Synthesis, env: str
) -> None:
    task = by_prefix(synthesis, env, "AWS::ECS::TaskDefinition", "MigrationTask")
    (definition,) = task["ContainerDefinitions"]
    assert definition["Command"] == ["python", "-m", "health_platform.api.migrate"]
    secrets = {s["Name"]: json.dumps(s["ValueFrom"]) for s in definition["Secrets"]}
    assert set(secrets) == {"DATABASE_USERNAME", "DATABASE_PASSWORD"}
    # The data stack's generated master secret, through its attachment to the instance.
    assert all("DatabaseInstanceSecretAttachment" in value for value in secrets.values())
    assert "PortMappings" not in definition and "HealthCheck" not in definition
    # A one-off task: no service runs it.
    services = synthesis.resources(env, SERVICES, "AWS::ECS::Service").values()
    assert not [s for s in services if "Migration" in json.dumps(s["Properties"]["TaskDefinition"])]


def test_image_tags_come_from_ssm_at_deploy_time(synthesis: Synthesis, env: str) -> None:
    parameters = synthesis.raw(env, SERVICES)["Parameters"]
    for service in PORTS:
        parameter = parameters[f"{service.capitalize()}ImageTag"]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        assert parameter["Default"] == f"/health-platform/{env}/release/{service}"
        image = json.dumps(container(synthesis, env, service)["Image"])
        assert f"{service.capitalize()}ImageTag" in image


def policy_statements(synthesis: Synthesis, env: str, prefix: str) -> list[dict[str, Any]]:
    policy = by_prefix(synthesis, env, "AWS::IAM::ManagedPolicy", prefix)
    return policy["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_roles_are_least_privilege(synthesis: Synthesis, env: str) -> None:
    assert not synthesis.resources(env, SERVICES, "AWS::IAM::Policy"), "no inline policies"
    # The frontend's application code may call nothing in AWS.
    roles = synthesis.resources(env, SERVICES, "AWS::IAM::Role")
    frontend_task = [r for lid, r in roles.items() if lid.startswith("FrontendTaskRole")]
    assert len(frontend_task) == 1 and "ManagedPolicyArns" not in frontend_task[0]["Properties"]
    assert not [
        lid
        for lid in synthesis.resources(env, SERVICES, "AWS::IAM::ManagedPolicy")
        if lid.startswith("FrontendTaskRole")
    ]
    # The backend task: its own database user, its uploads bucket and the data key through
    # S3, nothing else.
    backend = policy_statements(synthesis, env, "BackendTaskRolePolicy")
    actions = sorted(
        a for s in backend for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    (connect,) = [s for s in backend if s["Action"] == "rds-db:connect"]
    assert json.dumps(connect["Resource"]).endswith(f'/{RUNTIME_ROLE}"]]}}')
    assert actions == sorted(
        [
            "ses:SendEmail",
            "rds-db:connect",
            "s3:ListBucket",
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
            "s3:DeleteObject",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
        ]
    )
    assert all(s["Resource"] != "*" for s in backend)
    # Execution roles: pull from their own repository, read only the named secrets.
    for service in PORTS:
        statements = policy_statements(synthesis, env, f"{service.capitalize()}ExecutionRolePolicy")
        (pull,) = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
        assert f"Registry{service.capitalize()}" in json.dumps(pull["Resource"])
        wildcard = [s for s in statements if s["Resource"] == "*"]
        assert [s["Action"] for s in wildcard] == ["ecr:GetAuthorizationToken"]
    backend_secrets = [
        s
        for s in policy_statements(synthesis, env, "BackendExecutionRolePolicy")
        if "secretsmanager:GetSecretValue" in s["Action"]
    ]
    # The Redis token and the session secret; the database's master secret is not its.
    assert len(backend_secrets) == 1 and len(backend_secrets[0]["Resource"]) == 2
    assert "DatabaseInstanceSecret" not in json.dumps(backend_secrets)


def test_the_api_emails_through_ses_from_its_own_address_only(
    synthesis: Synthesis, env: str
) -> None:
    settings = synthesis.environments[env]
    (identity,) = synthesis.resources(env, SERVICES, "AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == settings.domain.hosted_zone_name
    dkim = [
        r
        for r in synthesis.resources(env, SERVICES, "AWS::Route53::RecordSet").values()
        if r["Properties"]["Type"] == "CNAME"
    ]
    assert len(dkim) == 3  # Easy DKIM's three records, in the environment's zone
    environment = {
        e["Name"]: e["Value"] for e in container(synthesis, env, "backend")["Environment"]
    }
    sender = f"no-reply@{settings.domain.name}"
    assert environment["MAIL_BACKEND"] == "ses" and environment["MAIL_FROM"] == sender
    # The zone's identity covers the domain the sender is on.
    assert settings.domain.name.endswith(settings.domain.hosted_zone_name)
    (send,) = [
        s
        for s in policy_statements(synthesis, env, "BackendTaskRolePolicy")
        if s["Action"] == "ses:SendEmail"
    ]
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}


def test_the_api_trusts_forwarded_addresses_only_from_the_load_balancers_subnets(
    synthesis: Synthesis, env: str
) -> None:
    """Empty, every client would look like a proxy's peer no one trusts, and the sign-in
    limits would count every client as the ALB's own address: all sign-ins at once."""
    environment = {
        e["Name"]: e["Value"] for e in container(synthesis, env, "backend")["Environment"]
    }
    networks = environment["TRUSTED_PROXY_NETWORKS"]
    public = [
        r["Properties"]["CidrBlock"]
        for lid, r in synthesis.resources(env, NETWORK, "AWS::EC2::Subnet").items()
        if "public" in lid.lower()
    ]
    assert public and sorted(networks.split(",")) == sorted(public)


def test_services_run_privately_with_rollback_and_discovery(synthesis: Synthesis, env: str) -> None:
    ecs = synthesis.environments[env].ecs
    for service in PORTS:
        props = by_prefix(synthesis, env, "AWS::ECS::Service", f"{service.capitalize()}Service")
        network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert "privateSubnet" in json.dumps(network["Subnets"])
        deployment = props["DeploymentConfiguration"]
        assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
        capacity = props["CapacityProviderStrategy"][0]["CapacityProvider"]
        assert capacity == ("FARGATE_SPOT" if ecs.use_spot else "FARGATE")
        assert props["ServiceRegistries"]
        assert "DesiredCount" not in props  # autoscaling owns it; deploys must not reset it
    backend = by_prefix(synthesis, env, "AWS::ECS::Service", "BackendService")
    groups = json.dumps(backend["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"])
    assert "DataClients" in groups  # the data stack's export, attached
    synthesis.template(env, SERVICES).has_resource_properties(
        "AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": f"{env}.health-platform.internal"}
    )
    assert env != "dev" or ecs.use_spot


def test_autoscaling_ranges_and_policies(synthesis: Synthesis, env: str) -> None:
    ecs = synthesis.environments[env].ecs
    expected_range = {"dev": (1, 3), "staging": (1, 5), "prod": (2, 20)}[env]
    targets = synthesis.resources(env, SERVICES, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == 2
    for target in targets.values():
        props = target["Properties"]
        assert (props["MinCapacity"], props["MaxCapacity"]) == expected_range
        schedules = props.get("ScheduledActions", [])
        office_hours = 2 if synthesis.environments[env].office_hours else 0  # stop and start
        assert len(schedules) == len(ecs.scheduled_scaling) + office_hours
    policies = synthesis.resources(env, SERVICES, "AWS::ApplicationAutoScaling::ScalingPolicy")
    metrics = sorted(
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]
        for p in policies.values()
    )
    assert metrics == sorted(
        [
            "ECSServiceAverageCPUUtilization",
            "ECSServiceAverageMemoryUtilization",
            "ALBRequestCountPerTarget",
        ]
        * 2
    )
    if env == "prod":
        (schedule,) = [
            s
            for t in targets.values()
            for s in t["Properties"]["ScheduledActions"]
            if s["ScheduledActionName"] == "business-hours"
        ][:1]
        assert schedule["ScalableTargetAction"]["MinCapacity"] > expected_range[0]


def test_load_balancer(synthesis: Synthesis, env: str) -> None:
    template = synthesis.template(env, SERVICES)
    alb = by_prefix(synthesis, env, "AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerAlb")
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert alb["Scheme"] == "internet-facing"
    assert "publicSubnet" in json.dumps(alb["Subnets"])
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == ("true" if env == "prod" else "false")
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.prefix"] == "alb"
    listeners = synthesis.resources(env, SERVICES, "AWS::ElasticLoadBalancingV2::Listener").values()
    by_port = {lst["Properties"]["Port"]: lst["Properties"] for lst in listeners}
    assert list(by_port) == [443]  # CloudFront reaches the origin over HTTPS only
    assert by_port[443]["Protocol"] == "HTTPS"
    assert by_port[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    assert by_port[443]["Certificates"]
    (default,) = by_port[443]["DefaultActions"]
    assert default["Type"] == "forward"
    assert default["TargetGroupArn"]["Ref"].startswith("LoadBalancerFrontendTargets")
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {"Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}]},
    )
    groups = synthesis.resources(env, SERVICES, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert sorted(g["Properties"]["Port"] for g in groups) == [3000, 5000]
    for group in groups:
        assert group["Properties"]["HealthCheckPath"] == "/health"
        assert group["Properties"]["TargetType"] == "ip"
    template.has_resource_properties(
        "AWS::Route53::RecordSet", {"Name": f"origin.{synthesis.environments[env].domain.name}."}
    )


def test_load_balancer_admits_only_cloudfront(synthesis: Synthesis, env: str) -> None:
    edge = synthesis.environments[env].edge
    rules = synthesis.resources(env, SERVICES, "AWS::EC2::SecurityGroupIngress").values()

    def ingress(group: str) -> list[dict]:
        return [
            r["Properties"] for r in rules if group in r["Properties"]["GroupId"]["Fn::GetAtt"][0]
        ]

    # One rule a group: a reference to CloudFront's list weighs 55 of the group's 60.
    over_ipv4, over_ipv6 = (
        ingress("LoadBalancerSecurityGroup"),
        ingress("LoadBalancerCloudFrontIpv6"),
    )
    if edge.origin_ip == "ipv6":
        assert over_ipv4 == []  # no public IPv4 address to admit anything on
    else:
        assert [(r["FromPort"], r["SourcePrefixListId"]) for r in over_ipv4] == [
            (443, edge.cloudfront_prefix_list_id)
        ]
    if edge.origin_ip != "ipv4":
        (rule,) = over_ipv6
        assert rule["FromPort"] == 443 and "CidrIpv6" not in rule
        # The IPv6 list's id, looked up by its name when the stack deploys.
        assert rule["SourcePrefixListId"] == {
            "Fn::GetAtt": ["CloudFrontIpv6ListLookup7F5C21F1", "PrefixLists.0.PrefixListId"]
        }
    (balancer,) = synthesis.resources(
        env, SERVICES, "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ).values()
    assert (
        balancer["Properties"]["IpAddressType"]
        == {"ipv4": "ipv4", "dualstack": "dualstack", "ipv6": "dualstack-without-public-ipv4"}[
            edge.origin_ip
        ]
    )
    tasks = [
        r["Properties"]
        for r in rules
        if "LoadBalancer" not in r["Properties"]["GroupId"]["Fn::GetAtt"][0]
    ]
    assert all("SourceSecurityGroupId" in r for r in tasks), "tasks admit only security groups"


def test_repositories_scan_and_keep_tags(synthesis: Synthesis, env: str) -> None:
    repos = synthesis.resources(env, DATA, "AWS::ECR::Repository").values()
    assert sorted(r["Properties"]["RepositoryName"] for r in repos) == [
        f"health-platform/{env}/backend",
        f"health-platform/{env}/frontend",
    ]
    for repo in repos:
        props = repo["Properties"]
        assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert props["ImageTagMutability"] == "IMMUTABLE"
        assert props["EncryptionConfiguration"]["EncryptionType"] == "KMS"
        rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
        assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "any"]
        assert repo["DeletionPolicy"] == "Retain"


def test_apply_checks_every_parameter_the_services_stack_reads(
    synthesis: Synthesis, env: str
) -> None:
    from health_platform.ops.deploy import required_parameters

    template = synthesis.raw(env, SERVICES)
    # The platform's own parameters (not the CDK's bootstrap version).
    read = {
        p["Default"]
        for p in template["Parameters"].values()
        if "SSM" in p["Type"] and p["Default"].startswith("/health-platform/")
    }
    for resource in template["Resources"].values():
        for definition in resource["Properties"].get("ContainerDefinitions", []):
            for secret in definition.get("Secrets", []):
                arn = json.dumps(secret["ValueFrom"])
                if ":parameter/" in arn:
                    read.add("/" + arn.split(":parameter/")[1].split('"')[0])
    assert read == set(required_parameters(env))
