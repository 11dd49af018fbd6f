"""A deployed `dev` as far as the day-2 commands read it, made by direct API calls in moto:
the stacks' outputs, subnets and groups, the cluster and its task definitions, the ECR
repositories, the release parameters and the log groups."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from health_platform.contract import BACKEND, FRONTEND, MIGRATION, SERVICES
from health_platform.infra import naming
from tests.integration.aws_answers import Account

ENV = "dev"
REGION = "us-east-1"
RUNNING_TAG = "0ld0ld0ld0ld"


@dataclass(frozen=True)
class Deployment:
    subnets: list[str]
    migration_group: str
    clients_group: str
    migration_task_definition: str
    repositories: dict[str, str]  # service -> URI


def _stack(
    account: Account, part: str, outputs: dict[str, str], parameters: dict[str, Any]
) -> None:
    template = {
        "Parameters": parameters,
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    account("cloudformation", REGION).create_stack(
        StackName=naming.stack_name(ENV, part), TemplateBody=json.dumps(template)
    )


def vpc_with_two_subnets(ec2: Any) -> tuple[str, list[str]]:
    """A VPC and a subnet in each of two zones, as the network stack makes them."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    return vpc, subnets


def deploy(account: Account, *, services_stack: bool = True) -> Deployment:
    ec2 = account("ec2", REGION)
    vpc, subnets = vpc_with_two_subnets(ec2)
    groups = {
        name: ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        for name in ("migration", "data-clients")
    }
    ecr = account("ecr", REGION)
    repositories = {
        service: ecr.create_repository(
            repositoryName=naming.repository_name(ENV, service),
            imageTagMutability="IMMUTABLE",
        )["repository"]["repositoryUri"]
        for service in SERVICES
    }
    ssm = account("ssm", REGION)
    for service in SERVICES:
        ssm.put_parameter(
            Name=naming.release_parameter(ENV, service), Value=RUNNING_TAG, Type="String"
        )
    ecs = account("ecs", REGION)
    ecs.create_cluster(clusterName=naming.cluster_name(ENV))
    definitions = {
        task: ecs.register_task_definition(
            family=naming.task_family(ENV, task),
            containerDefinitions=[
                {
                    "name": task,
                    "image": f"{repositories[_image_of(task)]}:{RUNNING_TAG}",
                    "memory": 512,
                    "readonlyRootFilesystem": True,
                    "user": "10001:10001",
                }
            ],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            executionRoleArn="arn:aws:iam::123456789012:role/execution",
            taskRoleArn="arn:aws:iam::123456789012:role/task",
        )["taskDefinition"]["taskDefinitionArn"]
        for task in (FRONTEND, BACKEND, MIGRATION)
    }
    logs = account("logs", REGION)
    for task in (FRONTEND, BACKEND, MIGRATION):
        logs.create_log_group(logGroupName=naming.task_log_group(ENV, task))
    _stack(account, naming.NETWORK, {naming.Output.PRIVATE_SUBNETS: ",".join(subnets)}, {})
    _stack(
        account,
        naming.DATA,
        {
            naming.Output.DATA_CLIENTS_GROUP: groups["data-clients"],
            **{naming.Output.repository_uri(s): uri for s, uri in repositories.items()},
        },
        {},
    )
    if services_stack:
        _stack(
            account,
            naming.SERVICES,
            {
                naming.Output.MIGRATION_TASK_DEFINITION: definitions[MIGRATION],
                naming.Output.MIGRATION_GROUP: groups["migration"],
                "ClusterName": naming.cluster_name(ENV),
            },
            {
                f"{s.capitalize()}ImageTag": {
                    "Type": "AWS::SSM::Parameter::Value<String>",
                    "Default": naming.release_parameter(ENV, s),
                }
                for s in SERVICES
            },
        )
    return Deployment(
        subnets=subnets,
        migration_group=groups["migration"],
        clients_group=groups["data-clients"],
        migration_task_definition=definitions[MIGRATION],
        repositories=repositories,
    )


def _image_of(task: str) -> str:
    return BACKEND if task == MIGRATION else task


def log(account: Account, task: str, task_arn: str, *messages: str) -> None:
    """What a task's container wrote, in the stream awslogs gives it."""
    logs = account("logs", REGION)
    stream = naming.task_log_stream(task, task_arn.rsplit("/", 1)[-1])
    logs.create_log_stream(logGroupName=naming.task_log_group(ENV, task), logStreamName=stream)
    logs.put_log_events(
        logGroupName=naming.task_log_group(ENV, task),
        logStreamName=stream,
        logEvents=[
            # Now: CloudWatch refuses events older than 14 days.
            {"timestamp": int(time.time() * 1000) + i, "message": m}
            for i, m in enumerate(messages)
        ],
    )
