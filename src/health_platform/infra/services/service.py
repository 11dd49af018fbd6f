"""A Fargate task (task definition, container, logs, roles) and a long-running service of
one, with its security group."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.log_groups import encrypted_log_group
from health_platform.infra.services.roles import role_with_policy
from health_platform.settings import EcsSettings

# Fargate's maximum; the API drains in-flight requests within it on SIGTERM.
STOP_TIMEOUT = Duration.seconds(120)
# A deployment starts the new tasks before it stops the old: up to twice the desired count.
DEPLOYMENT_MAX_PERCENT = 200


@dataclass(frozen=True)
class ServiceSpec:
    """What differs between the tasks: the frontend, the backend, the migration.

    `user` and `scratch_paths` come from the image's Dockerfile (its USER and VOLUMEs):
    Fargate mounts a task volume root-owned 0755 unless the image declares a VOLUME at
    that path, whose ownership then applies, so the two must agree."""

    name: str
    user: str
    health_command: list[str] | None = None
    port: int | None = None
    command: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, ecs.Secret] = field(default_factory=dict)
    # ARNs the execution role may read to inject `secrets` (Secrets Manager, SSM).
    secret_arns: list[str] = field(default_factory=list)
    # Writable scratch paths on an otherwise read-only root filesystem.
    scratch_paths: tuple[str, ...] = ()
    task_statements: list[iam.PolicyStatement] = field(default_factory=list)
    extra_security_groups: list[ec2.ISecurityGroup] = field(default_factory=list)


@dataclass(frozen=True)
class Platform:
    """What both services share: where they run and the keys they use."""

    env: str
    settings: EcsSettings
    cluster: ecs.ICluster
    vpc: ec2.IVpc
    subnets: list[ec2.ISubnet]
    data_key: kms.IKey
    logs_key: kms.IKey


class FargateTask(Construct):
    """A task definition with one container, its log group and its two roles."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: Platform,
        spec: ServiceSpec,
        repository: ecr.IRepository,
        image_tag: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        env, settings = platform.env, platform.settings
        data_key, logs_key = platform.data_key, platform.logs_key
        self.log_group = encrypted_log_group(
            self,
            "Logs",
            name=naming.task_log_group(env, spec.name),
            key=logs_key,
            retention_days=settings.log_retention_days,
        )
        execution_statements = [
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[repository.repository_arn],
            ),
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}:*"],
            ),
        ]
        if spec.secret_arns:
            execution_statements += [
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                    resources=spec.secret_arns,
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[data_key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [
                                f"secretsmanager.{stack.region}.amazonaws.com",
                                f"ssm.{stack.region}.amazonaws.com",
                            ]
                        }
                    },
                ),
            ]
        self.execution_role, execution_ref = role_with_policy(
            self,
            "ExecutionRole",
            service="ecs-tasks.amazonaws.com",
            description=f"{spec.name}: pull its image, write its logs, read its secrets",
            statements=execution_statements,
        )
        self.task_role, task_ref = role_with_policy(
            self,
            "TaskRole",
            service="ecs-tasks.amazonaws.com",
            description=f"{spec.name}: what the application itself may call",
            statements=spec.task_statements,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            family=naming.task_family(env, spec.name),
            cpu=settings.cpu,
            memory_limit_mib=settings.memory_mib,
            execution_role=execution_ref,
            task_role=task_ref,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.container = self.task_definition.add_container(
            spec.name,
            image=ecs.ContainerImage.from_ecr_repository(repository, tag=image_tag),
            command=spec.command,
            port_mappings=(
                [ecs.PortMapping(container_port=spec.port, name=spec.name)] if spec.port else None
            ),
            environment=spec.environment,
            secrets=spec.secrets,
            user=spec.user,
            readonly_root_filesystem=True,
            stop_timeout=STOP_TIMEOUT,
            essential=True,
            health_check=(
                ecs.HealthCheck(
                    command=spec.health_command,
                    interval=Duration.seconds(15),
                    timeout=Duration.seconds(5),
                    retries=3,
                    start_period=Duration.seconds(30),
                )
                if spec.health_command
                else None
            ),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=spec.name,
                log_group=self.log_group,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            ),
        )
        for index, path in enumerate(spec.scratch_paths):
            volume = f"scratch{index}"
            self.task_definition.add_volume(name=volume)
            self.container.add_mount_points(
                ecs.MountPoint(container_path=path, source_volume=volume, read_only=False)
            )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=platform.vpc,
            description=f"{spec.name} tasks",
            allow_all_outbound=True,  # AWS endpoints, NAT; inbound is what is restricted
        )
        # What the task runs in: its own group and those the spec adds (the data clients').
        self.security_groups: list[ec2.ISecurityGroup] = [
            self.security_group,
            *spec.extra_security_groups,
        ]


class FargateApplication(FargateTask):
    """A task that runs as a service: kept running, replaced on failure, discoverable."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: Platform,
        spec: ServiceSpec,
        repository: ecr.IRepository,
        image_tag: str,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            platform=platform,
            spec=spec,
            repository=repository,
            image_tag=image_tag,
        )
        settings = platform.settings
        capacity = "FARGATE_SPOT" if settings.use_spot else "FARGATE"
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=spec.name,
            cluster=platform.cluster,
            task_definition=self.task_definition,
            # No desired count: autoscaling owns it (its minimum applies at once), and a
            # deploy must not reset what autoscaling chose.
            vpc_subnets=ec2.SubnetSelection(subnets=platform.subnets),
            assign_public_ip=False,
            security_groups=self.security_groups,
            capacity_provider_strategies=[
                ecs.CapacityProviderStrategy(capacity_provider=capacity, weight=1)
            ],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=DEPLOYMENT_MAX_PERCENT,
            health_check_grace_period=Duration.seconds(60),
            cloud_map_options=ecs.CloudMapOptions(
                name=spec.name,
                dns_record_type=servicediscovery.DnsRecordType.A,
                dns_ttl=Duration.seconds(10),
            ),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
