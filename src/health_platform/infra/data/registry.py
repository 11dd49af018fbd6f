"""ECR repositories for the two service images, and the template their DR-region copies
are created from.

They live with the stateful resources, not with the services: an image must be pushed
before a service can run it, so the repositories have to exist before the services stack
is first deployed, and they keep their images when that stack is replaced.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from health_platform.contract import SERVICES
from health_platform.infra import naming

UNTAGGED_EXPIRY_DAYS = 7
TAGGED_IMAGES_KEPT = 30


class ImageRepositories(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, env: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.repositories = {
            service: ecr.Repository(
                self,
                service.capitalize(),
                repository_name=naming.repository_name(env, service),
                image_scan_on_push=True,
                # A tag names one image forever: what ran yesterday can be run again.
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                encryption=ecr.RepositoryEncryption.KMS,
                encryption_key=key,
                lifecycle_rules=[
                    ecr.LifecycleRule(
                        description="Untagged layers of failed pushes",
                        tag_status=ecr.TagStatus.UNTAGGED,
                        max_image_age=Duration.days(UNTAGGED_EXPIRY_DAYS),
                        rule_priority=1,
                    ),
                    ecr.LifecycleRule(
                        description=f"Keep the last {TAGGED_IMAGES_KEPT} releases",
                        tag_status=ecr.TagStatus.ANY,
                        max_image_count=TAGGED_IMAGES_KEPT,
                        rule_priority=2,
                    ),
                ],
                removal_policy=RemovalPolicy.RETAIN,
            )
            for service in SERVICES
        }


def lifecycle_policy_text() -> str:
    """The repositories' lifecycle rules as ECR's policy document, for the replicas' template
    (the L2 repositories above render the same document from their LifecycleRules)."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Untagged layers of failed pushes",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countNumber": UNTAGGED_EXPIRY_DAYS,
                        "countUnit": "days",
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the last {TAGGED_IMAGES_KEPT} releases",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": TAGGED_IMAGES_KEPT,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        separators=(",", ":"),
    )


class ReplicaRepositoryTemplate(Construct):
    """In the DR region: the settings of the repositories ECR creates there when it replicates
    the environment's images (data/replication.py), the same as the sources' (immutable tags,
    KMS-encrypted, same lifecycle). Without it, ECR creates them mutable and AES-256 encrypted.

    ECR uses a template with a KMS key only through a role of ours: the service-linked role
    may not create grants on a customer-managed key.
    """

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        repositories = (
            f"arn:{stack.partition}:ecr:{stack.region}:{stack.account}:repository/{prefix}/*"
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "ecr.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"Creates the replicated {prefix}/* repositories with the DR key",
        )
        self.role.add_managed_policy(
            iam.ManagedPolicy(
                self,
                "Policy",
                statements=[
                    iam.PolicyStatement(
                        actions=["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
                        resources=[repositories],
                    ),
                    iam.PolicyStatement(
                        actions=["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
                        resources=[key.key_arn],
                    ),
                ],
            )
        )
        self.template = ecr.CfnRepositoryCreationTemplate(
            self,
            "Template",
            prefix=prefix,
            applied_for=["REPLICATION"],
            description="Replicas of the environment's service images",
            image_tag_mutability="IMMUTABLE",
            encryption_configuration=ecr.CfnRepositoryCreationTemplate.EncryptionConfigurationProperty(
                encryption_type="KMS", kms_key=key.key_arn
            ),
            lifecycle_policy=lifecycle_policy_text(),
            custom_role_arn=self.role.role_arn,
        )
