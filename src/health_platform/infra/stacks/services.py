"""`health-platform-<env>-services`: the stateless application tier."""

from __future__ import annotations

from aws_cdk import CfnOutput, CfnParameter
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.data.cache import PORT as REDIS_PORT
from health_platform.infra.data.database import DATABASE_NAME
from health_platform.infra.services.load_balancer import API_PATHS, LoadBalancer
from health_platform.infra.services.scaling import autoscale
from health_platform.infra.services.service import FargateApplication, Platform, ServiceSpec
from health_platform.infra.stacks.base import PlatformStack
from health_platform.infra.stacks.data import DataStack
from health_platform.infra.stacks.network import NetworkStack
from health_platform.settings import EnvironmentSettings

FRONTEND_PORT = 3000
BACKEND_PORT = 5000


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
            cluster_name=naming.resource_name(env),
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
            enable_fargate_capacity_providers=True,
        )
        self.cluster.add_default_cloud_map_namespace(
            name=f"{env}.{naming.PROJECT}.internal", vpc=vpc
        )
        zone = route53.HostedZone.from_hosted_zone_attributes(
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
            access_logs=data.buckets.alb_logs,
            deletion_protection=settings.is_production,
        )
        platform = Platform(
            env=env,
            settings=settings.ecs,
            cluster=self.cluster,
            vpc=vpc,
            subnets=subnets,
            data_key=data.key,
            logs_key=network.logs_key,
        )
        self.frontend = FargateApplication(
            self,
            "Frontend",
            spec=self._frontend_spec(),
            repository=self._repository(data, "frontend"),
            image_tag=self._image_tag(env, "frontend"),
            platform=platform,
        )
        self.backend = FargateApplication(
            self,
            "Backend",
            spec=self._backend_spec(settings, data),
            repository=self._repository(data, "backend"),
            image_tag=self._image_tag(env, "backend"),
            platform=platform,
        )
        for application, port in ((self.frontend, FRONTEND_PORT), (self.backend, BACKEND_PORT)):
            application.security_group.add_ingress_rule(
                self.load_balancer.security_group, ec2.Port.tcp(port), "from the load balancer"
            )
            self.load_balancer.security_group.add_egress_rule(
                application.security_group, ec2.Port.tcp(port), "to the service"
            )
        self.backend.security_group.add_ingress_rule(
            self.frontend.security_group, ec2.Port.tcp(BACKEND_PORT), "from the frontend"
        )
        frontend_targets = self.load_balancer.route(
            "frontend", port=FRONTEND_PORT, service=self.frontend.service
        )
        backend_targets = self.load_balancer.route(
            "backend", port=BACKEND_PORT, service=self.backend.service, priority=10, paths=API_PATHS
        )
        autoscale(self.frontend.service, settings.ecs, frontend_targets)
        autoscale(self.backend.service, settings.ecs, backend_targets)
        self.target_groups = {"frontend": frontend_targets, "backend": backend_targets}
        for name, value in {
            "ClusterName": self.cluster.cluster_name,
            "LoadBalancerDnsName": self.load_balancer.alb.load_balancer_dns_name,
            "OriginName": self.load_balancer.origin_name,
            "FrontendServiceName": self.frontend.service.service_name,
            "BackendServiceName": self.backend.service.service_name,
        }.items():
            CfnOutput(self, name, value=value)

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
        return ServiceSpec(
            name="frontend",
            port=FRONTEND_PORT,
            health_command=[
                "CMD",
                "wget",
                "-q",
                "-O",
                "/dev/null",
                f"http://127.0.0.1:{FRONTEND_PORT}/health",
            ],
            scratch_paths=("/tmp", "/var/cache/nginx"),  # noqa: S108
        )

    def _backend_spec(self, settings: EnvironmentSettings, data: DataStack) -> ServiceSpec:
        env = settings.name
        database = data.database.instance
        assert database.secret is not None  # RDS manages it: manage_master_user_password
        # Imported by ARN for the reason given in _repository (here: the data key's policy).
        database_secret = secretsmanager.Secret.from_secret_complete_arn(
            self, "DatabaseSecret", database.secret.secret_arn
        )
        session = ssm.StringParameter.from_secure_string_parameter_attributes(
            self, "SessionSecret", parameter_name=naming.app_secret_parameter(env, "session-secret")
        )
        uploads = data.buckets.uploads
        redis_token = secretsmanager.Secret.from_secret_complete_arn(
            self, "RedisAuthToken", data.cache.auth_token.secret_arn
        )
        return ServiceSpec(
            name="backend",
            port=BACKEND_PORT,
            health_command=[
                "CMD",
                "python",
                "-c",
                "import urllib.request; "
                f"urllib.request.urlopen('http://127.0.0.1:{BACKEND_PORT}/health', timeout=3)",
            ],
            environment={
                "ENVIRONMENT": env,
                "PORT": str(BACKEND_PORT),
                "DATABASE_HOST": database.db_instance_endpoint_address,
                "DATABASE_PORT": database.db_instance_endpoint_port,
                "DATABASE_NAME": DATABASE_NAME,
                "DATABASE_SSL": "require",
                "REDIS_HOST": data.cache.replication_group.attr_configuration_end_point_address,
                "REDIS_PORT": str(REDIS_PORT),
                "REDIS_TLS": "true",
                "REDIS_CLUSTER": "true",
                "STORAGE_BACKEND": "s3",
                "UPLOADS_BUCKET": uploads.bucket_name,
                "KMS_KEY_ID": data.key.key_arn,
                # CloudFront and the ALB each append to X-Forwarded-For.
                "TRUSTED_PROXIES": "2",
            },
            secrets={
                "DATABASE_USERNAME": ecs.Secret.from_secrets_manager(database_secret, "username"),
                "DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(database_secret, "password"),
                "REDIS_AUTH_TOKEN": ecs.Secret.from_secrets_manager(redis_token),
                "SESSION_SECRET": ecs.Secret.from_ssm_parameter(session),
            },
            secret_arns=[
                database.secret.secret_arn,
                data.cache.auth_token.secret_arn,
                session.parameter_arn,
            ],
            task_statements=[
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
            # Attached, never edited: the load balancer's automatic ingress rules would
            # otherwise be written into the data stack's group.
            extra_security_groups=[
                ec2.SecurityGroup.from_security_group_id(
                    self, "DataClients", data.clients.security_group_id, mutable=False
                )
            ],
        )
