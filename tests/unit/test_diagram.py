"""`hp diagram`: the model read from templates (a small hand-written cloud assembly, no
synthesis), its drawing, and a user's mistakes as one sentence and exit code 2."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from health_platform.cli import main
from health_platform.diagram import draw, read_architecture
from health_platform.diagram.render import mermaid
from health_platform.errors import InvalidInputError
from tests.conftest import assert_refused_in_one_sentence

P = "health-platform-dev"


def _imp(stack: str, output: str) -> dict[str, str]:
    return {"Fn::ImportValue": f"{P}-{stack}:{output}"}


def _subnet(tier: str, zone: str, cidr: str) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::Subnet",
        "Properties": {
            "AvailabilityZone": zone,
            "CidrBlock": cidr,
            "Tags": [{"Key": "aws-cdk:subnet-name", "Value": tier}],
        },
    }


NETWORK = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Public1": _subnet("public", "us-east-1a", "10.0.0.0/24"),
        "Private1": _subnet("private", "us-east-1a", "10.0.16.0/20"),
        "Database1": _subnet("database", "us-east-1a", "10.0.48.0/24"),
        "Igw": {"Type": "AWS::EC2::InternetGateway", "Properties": {}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": {"Ref": "Public1"}}},
        "Ecr": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "ServiceName": "com.amazonaws.us-east-1.ecr.dkr",
                "VpcEndpointType": "Interface",
                "SubnetIds": [{"Ref": "Private1"}],
            },
        },
    },
    "Outputs": {
        name: {"Value": {"Ref": name}, "Export": {"Name": f"{P}-network:{name}"}}
        for name in ("Public1", "Private1", "Database1")
    },
}
DATA = {
    "Resources": {
        "DbSubnets": {
            "Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {"SubnetIds": [_imp("network", "Database1")]},
        },
        "Db": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {
                "DBInstanceClass": "db.t3.micro",
                "DBInstanceIdentifier": f"{P}-db",
                "DBSubnetGroupName": {"Ref": "DbSubnets"},
                "EngineVersion": "15.17",
                "MultiAZ": True,
                "AllocatedStorage": "20",
            },
        },
        "Replica": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {
                "DBInstanceClass": "db.t3.micro",
                "DBInstanceIdentifier": f"{P}-db-replica",
                "DBSubnetGroupName": {"Ref": "DbSubnets"},
                "SourceDBInstanceIdentifier": {"Ref": "Db"},
            },
        },
        "CacheSubnets": {
            "Type": "AWS::ElastiCache::SubnetGroup",
            "Properties": {"SubnetIds": [_imp("network", "Database1")]},
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "Properties": {
                "CacheNodeType": "cache.t3.micro",
                "CacheSubnetGroupName": {"Ref": "CacheSubnets"},
                "EngineVersion": "7.1",
                "NumNodeGroups": 2,
                "ReplicasPerNodeGroup": 1,
                "ReplicationGroupId": f"{P}-cache",
            },
        },
        "Uploads": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": f"{P}-uploads-111111111111"},
        },
        "Repo": {
            "Type": "AWS::ECR::Repository",
            "Properties": {"RepositoryName": "health-platform/dev/backend"},
        },
    },
    "Outputs": {
        name: {"Value": {"Fn::GetAtt": [name, "X"]}, "Export": {"Name": f"{P}-data:{name}"}}
        for name in ("Db", "Cache", "Uploads")
    },
}
SERVICES = {
    "Resources": {
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Scheme": "internet-facing", "Subnets": [_imp("network", "Public1")]},
        },
        "Https": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "Port": 443,
                "Protocol": "HTTPS",
                "DefaultActions": [{"TargetGroupArn": {"Ref": "Targets"}, "Type": "forward"}],
            },
        },
        "ApiRule": {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "Actions": [{"TargetGroupArn": {"Ref": "Targets"}, "Type": "forward"}],
                "Conditions": [{"PathPatternConfig": {"Values": ["/api/*"]}}],
            },
        },
        "Targets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {}},
        "Origin": {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "Name": "origin.dev.example.com.",
                "AliasTarget": {"DNSName": {"Fn::GetAtt": ["Alb", "DNSName"]}},
            },
        },
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": "512",
                "Memory": "1024",
                "ContainerDefinitions": [
                    {
                        "Name": "backend",
                        "Environment": [
                            {"Name": "DATABASE_HOST", "Value": _imp("data", "Db")},
                            {"Name": "REDIS_HOST", "Value": _imp("data", "Cache")},
                            {"Name": "UPLOADS_BUCKET", "Value": _imp("data", "Uploads")},
                        ],
                        "Secrets": [
                            {
                                "Name": "SESSION_SECRET",
                                "ValueFrom": "arn:aws:ssm:us-east-1:1:parameter/hp/dev/session",
                            }
                        ],
                    }
                ],
            },
        },
        "Backend": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": "backend",
                "TaskDefinition": {"Ref": "Task"},
                "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT"}],
                "LoadBalancers": [{"TargetGroupArn": {"Ref": "Targets"}}],
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {"Subnets": [_imp("network", "Private1")]}
                },
            },
        },
        "Scaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "MinCapacity": 2,
                "MaxCapacity": 6,
                "ResourceId": {"Fn::GetAtt": ["Backend", "Name"]},
            },
        },
    }
}
EDGE = {
    "Resources": {
        "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {"Name": P, "Rules": [{}, {}]}},
        "Cdn": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Aliases": ["dev.example.com"],
                    "Origins": [{"DomainName": "origin.dev.example.com"}],
                    "WebACLId": {"Fn::GetAtt": ["Acl", "Arn"]},
                }
            },
        },
    }
}
OBSERVABILITY = {
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{P}-alerts"}},
        "Cpu": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {"AlarmActions": [{"Ref": "Topic"}]},
        },
    }
}
DR = {
    "Resources": {
        "UploadsReplica": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": f"{P}-uploads-replica-111111111111"},
        }
    }
}


def write_assembly(folder: Path, stacks: dict[str, tuple[str, dict[str, Any]]]) -> Path:
    """A cloud assembly as `hp infra synth` leaves it: templates and the manifest."""
    artifacts = {}
    for part, (region, body) in stacks.items():
        name = f"{P}-{part}"
        (folder / f"{name}.template.json").write_text(json.dumps(body))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://111111111111/{region}",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (folder / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return folder


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    parts = {
        "network": NETWORK,
        "data": DATA,
        "services": SERVICES,
        "edge": EDGE,
        "observability": OBSERVABILITY,
    }
    stacks = {part: ("us-east-1", body) for part, body in parts.items()}
    stacks["dr"] = ("us-west-2", DR)
    return write_assembly(tmp_path, stacks)


def test_parts_sit_in_their_subnet_tiers_with_real_names_and_sizes(assembly: Path) -> None:
    model = read_architecture(assembly, "dev")
    nodes = {node.id: node for node in model.nodes}
    assert nodes["alb"].group == "tier:public"
    assert nodes["nat:us-east-1a"].group == "tier:public"
    assert nodes["ecs:backend"].group == "tier:private"
    assert nodes["endpoints"].group == "tier:private"
    assert nodes["rds:db"].group == nodes["redis"].group == "tier:database"
    assert "db.t3.micro, Multi-AZ" in nodes["rds:db"].label
    assert "health-platform-dev-db" in nodes["rds:db"].label
    assert "(read replica)" in nodes["rds:db-replica"].label
    assert "cache.t3.micro x 4 (2 shards)" in nodes["redis"].label
    assert "0.5 vCPU, 1024 MiB\n2-6 tasks\nFARGATE_SPOT" in nodes["ecs:backend"].label
    assert nodes["cdn"].group == nodes["waf"].group == "edge"
    assert nodes["s3:uploads-replica"].group == "storage:us-west-2"
    assert "/hp/dev/session" in nodes["ssm"].label
    groups = {group.id: group for group in model.groups}
    assert groups["vpc"].label == "VPC 10.0.0.0/16"
    assert groups["tier:public"].parent == "vpc"
    assert groups["region:us-west-2"].label == "AWS us-west-2 (disaster recovery)"


def test_edges_follow_the_references_between_stacks(assembly: Path) -> None:
    model = read_architecture(assembly, "dev")
    edges = {(edge.source, edge.target): edge.label for edge in model.edges}
    assert edges[("cdn", "alb")] == "HTTPS origin.dev.example.com"
    assert edges[("waf", "cdn")] == "filters"
    assert edges[("alb", "ecs:backend")] == "/*, /api/*"
    assert edges[("ecs:backend", "rds:db")] == "database"
    assert edges[("ecs:backend", "redis")] == "redis"
    assert edges[("ecs:backend", "s3:uploads")] == "uploads"
    assert edges[("ecs:backend", "ssm")] == "secrets"
    assert edges[("ecs:backend", "nat:us-east-1a")] == "egress"
    assert edges[("rds:db", "rds:db-replica")] == "replication"
    assert edges[("endpoints", "ecr")] == ""
    assert edges[("cloudwatch", "sns")] == "alarms"
    assert ("users", "cdn") in edges  # no Route 53 record in this edge stack


def test_only_the_named_environment_is_read(assembly: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"No synthesized templates of 'prod' in"):
        read_architecture(assembly, "prod")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (make setup installs it)")
def test_draw_writes_a_png_and_the_model(assembly: Path, tmp_path: Path) -> None:
    picture, model_file = tmp_path / "out" / "dev.png", tmp_path / "out" / "dev.json"
    picture.parent.mkdir()
    model = draw(assembly, "dev", picture, model_file)
    assert picture.read_bytes().startswith(b"\x89PNG")
    assert json.loads(model_file.read_text()) == model.to_dict()


def test_mermaid_names_every_part_and_connection(assembly: Path, tmp_path: Path) -> None:
    model = draw(assembly, "dev", tmp_path / "dev.mmd")
    text = (tmp_path / "dev.mmd").read_text()
    assert text == mermaid(model)
    assert text.startswith("flowchart LR\n")
    assert 'subgraph tier_database["Database subnets"]' in text
    assert "ecs_backend -->|database| rds_db" in text


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["diagram", "qa"], "Unknown environment 'qa'; known: dev, prod, staging."),
        (
            ["diagram", "dev", "--output", "/no/such/folder/dev.png"],
            "Cannot write /no/such/folder/dev.png: the folder /no/such/folder does not exist.",
        ),
        (
            ["diagram", "dev", "--output", "dev.gif"],
            "Cannot draw 'dev.gif': the file name must end in .png, .svg, .pdf, .dot, .mmd.",
        ),
    ],
)
def test_mistakes_are_one_sentence_and_exit_2_before_synthesis(
    capsys: pytest.CaptureFixture[str], argv: list[str], sentence: str
) -> None:
    assert_refused_in_one_sentence(capsys, argv, sentence)


def test_an_unwritable_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "access", lambda *_: False)  # root may write anywhere
    assert main(["diagram", "dev", "--output", str(tmp_path / "dev.png")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: Cannot write {tmp_path / 'dev.png'}: permission denied."
    )
