"""ECR repositories for the two service images.

They live with the stateful resources, not with the services: an image must be pushed
before a service can run it, so the repositories have to exist before the services stack
is first deployed, and they keep their images when that stack is replaced.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
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
