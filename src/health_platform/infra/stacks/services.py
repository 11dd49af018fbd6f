"""`health-platform-<env>-services`: the stateless application tier."""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnOutput, CfnParameter
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from health_platform.contract import (
    API_PATH_PATTERN,
    APP_SECRETS,
    BACKEND,
    DATABASE_NAME,
    FRONTEND,
    MIGRATION,
    MIGRATION_COMMAND,
    PORTS,
    RDS_CA_BUNDLE,
    REDIS_PORT,
    RUNTIME_ROLE,
    api_environment,
    env_name,
)
from health_platform.images import CONTAINER_DOCKERFILES, image_of
from health_platform.infra import naming
from health_platform.infra.data import connections
from health_platform.infra.services.load_balancer import LoadBalancer
from health_platform.infra.services.mail import MailIdentity
from health_platform.infra.services.prefix_lists import CLOUDFRONT_IPV6, ManagedPrefixList
from health_platform.infra.services.scaling import autoscale
from health_platform.infra.services.service import (
    DEPLOYMENT_MAX_PERCENT,
    FargateApplication,
    FargateTask,
    Platform,
    ServiceSpec,
)
from health_platform.infra.stacks.base import PlatformStack
from health_platform.infra.stacks.data import DataStack
from health_platform.infra.stacks.network import NetworkStack
from health_platform.settings import EcsSettings, EnvironmentSettings


class ServicesStack(PlatformStack):
    part = naming.SERVICES

    def __init__(
        self,
        scope: Construct,
        settings: EnvironmentSettings,
        *,
        network: NetworkStack,
        data: DataStack,
    ) -> None:
        super().__init__(scope, settings, description="ECS Fargate services, ALB, autoscaling")
        env = settings.name
        self.add_stack_dependency(data)
        vpc, subnets = network.vpc, network.private_subnets
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=naming.cluster_name(env),
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
            enable_fargate_capacity_providers=True,
        )
        self.cluster.add_default_cloud_map_namespace(
            name=f"{env}.{naming.PROJECT}.internal", vpc=vpc
        )
        zone = route53.PublicHostedZone.from_public_hosted_zone_attributes(
            self,
            "Zone",
            hosted_zone_id=settings.domain.hosted_zone_id,
            zone_name=settings.domain.hosted_zone_name,
        )
        self.load_balancer = LoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            domain=settings.domain.name,
            zone=zone,
            cloudfront_prefix_list_id=settings.edge.cloudfront_prefix_list_id,
            cloudfront_ipv6_prefix_list_id=self._cloudfront_ipv6_list(settings, network),
            origin_ip=settings.edge.origin_ip,
            access_logs=data.buckets.alb_logs,
            deletion_protection=settings.is_production,
        )
        self.mail = MailIdentity(self, "Mail", zone=zone, domain=settings.domain.name)
        platform = Platform(
            env=env,
            settings=settings.ecs,
            cluster=self.cluster,
            vpc=vpc,
            subnets=subnets,
            data_key=data.key,
            logs_key=network.logs_key,
        )
        # The data stack's client group, attached to the backend and the migration, never
        # edited: the load balancer's automatic ingress rules would land in the data stack.
        data_clients = ec2.SecurityGroup.from_security_group_id(
            self, "DataClients", data.clients.security_group_id, mutable=False
        )
        backend_repository = self._repository(data, BACKEND)
        backend_tag = self._image_tag(env, BACKEND)
        self.frontend = FargateApplication(
            self,
            "Frontend",
            spec=self._frontend_spec(),
            repository=self._repository(data, FRONTEND),
            image_tag=self._image_tag(env, FRONTEND),
            platform=platform,
        )
        self.backend = FargateApplication(
            self,
            "Backend",
            spec=self._backend_spec(settings, data, data_clients),
            repository=backend_repository,
            image_tag=backend_tag,
            platform=platform,
        )
        self.migration = FargateTask(
            self,
            "Migration",
            spec=self._migration_spec(data, data_clients),
            repository=backend_repository,
            image_tag=backend_tag,
            platform=platform,
        )
        for application, port in (
            (self.frontend, PORTS[FRONTEND]),
            (self.backend, PORTS[BACKEND]),
        ):
            application.security_group.add_ingress_rule(
                self.load_balancer.security_group, ec2.Port.tcp(port), "from the load balancer"
            )
            self.load_balancer.security_group.add_egress_rule(
                application.security_group, ec2.Port.tcp(port), "to the service"
            )
        self.backend.security_group.add_ingress_rule(
            self.frontend.security_group, ec2.Port.tcp(PORTS[BACKEND]), "from the frontend"
        )
        frontend_targets = self.load_balancer.route(
            FRONTEND, port=PORTS[FRONTEND], service=self.frontend.service
        )
        backend_targets = self.load_balancer.route(
            BACKEND,
            port=PORTS[BACKEND],
            service=self.backend.service,
            priority=10,
            paths=[API_PATH_PATTERN],
        )
        autoscale(self.frontend.service, settings.ecs, frontend_targets, settings.office_hours)
        autoscale(self.backend.service, settings.ecs, backend_targets, settings.office_hours)
        for name, value in {
            "ClusterName": self.cluster.cluster_name,
            "LoadBalancerDnsName": self.load_balancer.alb.load_balancer_dns_name,
            "OriginName": self.load_balancer.origin_name,
            "FrontendServiceName": self.frontend.service.service_name,
            "BackendServiceName": self.backend.service.service_name,
            # What `hp db migrate` needs to run the migration task.
            naming.Output.MIGRATION_TASK_DEFINITION: (
                self.migration.task_definition.task_definition_arn
            ),
            # A migration runs in this group and the data stack's DataClientsSecurityGroupId
            # (the database admits only that one), in the network stack's PrivateSubnetIds.
            naming.Output.MIGRATION_GROUP: self.migration.security_group.security_group_id,
        }.items():
            CfnOutput(self, name, value=value)

    def _cloudfront_ipv6_list(
        self, settings: EnvironmentSettings, network: NetworkStack
    ) -> str | None:
        """The id of CloudFront's IPv6 origin-facing list in this region, when the load
        balancer takes IPv6 (looked up at deployment: AWS publishes no table of ids)."""
        if not settings.dual_stack:
            return None
        return ManagedPrefixList(
            self,
            "CloudFrontIpv6List",
            name=CLOUDFRONT_IPV6,
            log_group_name=f"/{naming.PROJECT}/{settings.name}/prefix-list-lookup",
            vpc=network.vpc,
            subnets=network.private_subnets,
            logs_key=network.logs_key,
            log_retention_days=settings.ecs.log_retention_days,
        ).id

    def _repository(self, data: DataStack, service: str) -> ecr.IRepository:
        # Imported, not the data stack's object: CDK grants on a foreign repository (or
        # secret) land in its resource policy, which would make the data stack depend on
        # this one. The execution role's policy already grants what is needed.
        owned = data.registry.repositories[service]
        return ecr.Repository.from_repository_attributes(
            self,
            f"{service.capitalize()}Repository",
            repository_arn=owned.repository_arn,
            repository_name=owned.repository_name,
        )

    def _image_tag(self, env: str, service: str) -> str:
        # Read at deploy time from SSM, so `hp release` and a later `hp infra apply` agree
        # on what runs: neither overwrites the other's tag.
        parameter = CfnParameter(
            self,
            f"{service.capitalize()}ImageTag",
            type="AWS::SSM::Parameter::Value<String>",
            default=naming.release_parameter(env, service),
            description=f"SSM parameter holding the {service} image tag",
        )
        return parameter.value_as_string

    def _frontend_spec(self) -> ServiceSpec:
        image = image_of(FRONTEND)
        return ServiceSpec(
            name=FRONTEND,
            user=_user_of(image.user, FRONTEND),
            port=PORTS[FRONTEND],
            health_command=_health_command_of(image.healthcheck, FRONTEND),
            scratch_paths=image.volumes,
        )

    def _backend_spec(
        self, settings: EnvironmentSettings, data: DataStack, data_clients: ec2.ISecurityGroup
    ) -> ServiceSpec:
        """The API as a service: it signs in to PostgreSQL as its runtime role with IAM
        tokens (no password it would have to re-read when RDS rotates the master's)."""
        env = settings.name
        database = data.database.instance
        app_secrets = {
            setting: ssm.StringParameter.from_secure_string_parameter_attributes(
                self,
                # "SessionSecret" for session-secret: the construct id the stack has had.
                name.title().replace("-", ""),
                parameter_name=naming.app_secret_parameter(env, name),
            )
            for name, setting in APP_SECRETS.items()
        }
        uploads = data.buckets.uploads
        # Imported by ARN: CDK grants on a foreign secret land in its key's policy, which
        # would make the data stack depend on this one.
        redis_token = secretsmanager.Secret.from_secret_complete_arn(
            self, "RedisAuthToken", data.cache.auth_token.secret_arn
        )
        image = image_of(BACKEND)
        return ServiceSpec(
            name=BACKEND,
            user=_user_of(image.user, BACKEND),
            port=PORTS[BACKEND],
            health_command=_health_command_of(image.healthcheck, BACKEND),
            scratch_paths=image.volumes,
            environment=api_environment(
                environment=env,
                database_host=database.db_instance_endpoint_address,
                database_port=database.db_instance_endpoint_port,
                database_name=DATABASE_NAME,
                database_username=RUNTIME_ROLE,
                database_auth="iam",  # in the task's region: Fargate sets AWS_REGION
                # The server proven by RDS's CA (the image holds the bundle): an IAM token
                # is good for 15 minutes, so it goes only to the real database.
                database_ssl="verify-full",
                database_sslrootcert=RDS_CA_BUNDLE,
                redis_host=data.cache.replication_group.attr_configuration_end_point_address,
                redis_port=REDIS_PORT,
                redis_tls=True,
                redis_cluster=True,
                storage_backend="s3",
                uploads_bucket=uploads.bucket_name,
                kms_key_id=data.key.key_arn,
                trusted_proxies=2,  # CloudFront and the ALB each append to X-Forwarded-For
                # The pools' share of the instance's connections at the most tasks at once.
                database_connections=connections.per_task(
                    settings.rds.instance_class, most_tasks(settings.ecs)
                ),
                mail_backend="ses",
                mail_from=self.mail.sender,
                public_url=f"https://{settings.domain.name}",
                # Where the ALB's nodes live (the frontend's tasks, which may also reach the
                # API, are in the private subnets and are not trusted to forward).
                trusted_proxy_networks=",".join(
                    subnet.ipv4_cidr_block for subnet in self.cluster.vpc.public_subnets
                ),
            ),
            secrets={
                env_name("redis_auth_token"): ecs.Secret.from_secrets_manager(redis_token),
                **{
                    env_name(setting): ecs.Secret.from_ssm_parameter(parameter)
                    for setting, parameter in app_secrets.items()
                },
            },
            secret_arns=[
                data.cache.auth_token.secret_arn,
                *(parameter.parameter_arn for parameter in app_secrets.values()),
            ],
            task_statements=[
                self.mail.send_statement(),
                iam.PolicyStatement(
                    actions=["rds-db:connect"],
                    resources=[
                        self.format_arn(
                            service="rds-db",
                            resource="dbuser",
                            resource_name=f"{database.instance_resource_id}/{RUNTIME_ROLE}",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                ),
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[uploads.bucket_arn]),
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "s3:PutObject",
                        "s3:DeleteObject",
                    ],
                    resources=[uploads.arn_for_objects("*")],
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[data.key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}
                    },
                ),
            ],
            extra_security_groups=[data_clients],
        )

    def _migration_spec(self, data: DataStack, data_clients: ec2.ISecurityGroup) -> ServiceSpec:
        """The migration, a one-off task of the backend's image: it runs as the database's
        owner (RDS's master user), whose rotating password it may receive at its start."""
        database = data.database.instance
        # The generated master secret, through its attachment to the instance (which adds the
        # host and port to it before anything reads it).
        assert database.secret is not None
        master = secretsmanager.Secret.from_secret_complete_arn(
            self, "DatabaseSecret", database.secret.secret_arn
        )
        image = image_of(MIGRATION)
        return ServiceSpec(
            name=MIGRATION,
            user=_user_of(image.user, MIGRATION),
            command=list(MIGRATION_COMMAND),
            scratch_paths=image.volumes,
            environment=api_environment(
                database_host=database.db_instance_endpoint_address,
                database_port=database.db_instance_endpoint_port,
                database_name=DATABASE_NAME,
                database_ssl="verify-full",
                database_sslrootcert=RDS_CA_BUNDLE,
            ),
            secrets={
                env_name("database_username"): ecs.Secret.from_secrets_manager(master, "username"),
                env_name("database_password"): ecs.Secret.from_secrets_manager(master, "password"),
            },
            secret_arns=[database.secret.secret_arn],
            extra_security_groups=[data_clients],
        )


def most_tasks(ecs: EcsSettings) -> int:
    """The most tasks of a service that may run at once: autoscaling's highest maximum,
    doubled while a deployment replaces them."""
    highest = max([ecs.max_tasks, *(schedule.max_tasks for schedule in ecs.scheduled_scaling)])
    return highest * DEPLOYMENT_MAX_PERCENT // 100


def _health_command_of(healthcheck: tuple[str, ...] | None, container: str) -> list[str]:
    """The task's health check: the image's own HEALTHCHECK (Fargate ignores a Dockerfile's;
    the task definition must repeat it)."""
    if not healthcheck:
        raise ValueError(f"{CONTAINER_DOCKERFILES[container]} has no HEALTHCHECK in exec form")
    return ["CMD", *healthcheck]


def _user_of(user: str | None, container: str) -> str:
    if not user:
        raise ValueError(
            f"{CONTAINER_DOCKERFILES[container]} names no USER: the task must not run as root"
        )
    return user
