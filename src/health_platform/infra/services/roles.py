"""IAM roles whose whole permission set is one customer-managed policy written here.

CDK's grant methods write inline policies (HIPAA: no inline policies) and grant more than
a task needs. Constructs receive an immutable reference to each role, which turns their
automatic grants into no-ops; the statements below are the complete list.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


def role_with_policy(
    scope: Construct,
    construct_id: str,
    *,
    service: str,
    description: str,
    statements: list[iam.PolicyStatement],
    conditions: dict[str, object] | None = None,
) -> tuple[iam.Role, iam.IRole]:
    """(the role, an immutable reference to hand to constructs). `conditions` limit who may
    assume it on the service's behalf (confused deputy)."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(service, conditions=conditions),
        description=description,
    )
    if statements:
        role.add_managed_policy(
            iam.ManagedPolicy(scope, f"{construct_id}Policy", statements=statements)
        )
    return role, iam.Role.from_role_arn(scope, f"{construct_id}Ref", role.role_arn, mutable=False)
