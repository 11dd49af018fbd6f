"""The architecture of one environment, read from its synthesized CloudFormation templates.

What the diagram shows comes from the templates only (resources, their properties and the
references between them, across stacks through their exports), never from the environment
file, so the picture cannot show a database the templates do not create. The model is plain
data: the renderer draws it, and a test compares it with the committed one in docs/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from health_platform.errors import InvalidInputError
from health_platform.infra.naming import PROJECT

# The subnet tiers as the network construct names them (aws-cdk:subnet-name), in the order
# traffic meets them.
TIERS = {"public": "Public subnets", "private": "Private subnets", "database": "Database subnets"}

# Interface and gateway endpoints, by the service part of their name, to the node whose
# API they keep inside the VPC.
_ENDPOINT_TARGETS = {
    "ecr.api": "ecr",
    "ecr.dkr": "ecr",
    "logs": "cloudwatch",
    "monitoring": "cloudwatch",
    "secretsmanager": "secrets",
    "ssm": "ssm",
    "kms": "kms",
    "s3": "storage",
}

# How the diagram names an ElastiCache engine.
_ENGINE_LABELS = {"redis": "Redis", "valkey": "Valkey"}


@dataclass(frozen=True)
class Group:
    id: str
    label: str
    parent: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # what it is drawn as (the renderer's icon): "rds", "ecs", "s3" ...
    label: str
    group: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False  # management and data copies, not requests


@dataclass
class Architecture:
    env: str
    groups: list[Group] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def group(self, id: str, label: str, parent: str | None = None) -> str:
        if all(g.id != id for g in self.groups):
            self.groups.append(Group(id, label, parent))
        return id

    def node(self, id: str, kind: str, label: str, group: str | None = None) -> str:
        self.nodes.append(Node(id, kind, label, group))
        return id

    def edge(self, source: str, target: str, label: str = "", *, dashed: bool = False) -> None:
        known = {n.id for n in self.nodes}
        drawn = any(e.source == source and e.target == target for e in self.edges)
        if source in known and target in known and source != target and not drawn:
            self.edges.append(Edge(source, target, label, dashed))

    def has(self, id: str) -> bool:
        return any(n.id == id for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        """Sorted, so that two models of the same templates compare (and diff) equal."""
        return {
            "env": self.env,
            "groups": sorted((asdict(g) for g in self.groups), key=lambda g: g["id"]),
            "nodes": sorted((asdict(n) for n in self.nodes), key=lambda n: n["id"]),
            "edges": sorted(
                (asdict(e) for e in self.edges), key=lambda e: (e["source"], e["target"])
            ),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


@dataclass(frozen=True)
class StackTemplate:
    name: str
    region: str
    body: dict[str, Any]

    def resources(self, *kinds: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.body.get("Resources", {}).items():
            if resource["Type"] in kinds:
                yield logical_id, resource.get("Properties", {})


def load_templates(outdir: Path, env: str) -> list[StackTemplate]:
    """The environment's stacks in a cloud assembly (`hp infra synth` writes one), with the
    region each deploys to, from the assembly's manifest."""
    manifest_path = outdir / "manifest.json"
    prefix = f"{PROJECT}-{env}-"
    try:
        artifacts = json.loads(manifest_path.read_text())["artifacts"]
    except (OSError, ValueError, KeyError):
        artifacts = {}
    stacks = [
        StackTemplate(
            name=name,
            region=artifact["environment"].rsplit("/", 1)[-1],
            body=json.loads((outdir / artifact["properties"]["templateFile"]).read_text()),
        )
        for name, artifact in sorted(artifacts.items())
        if artifact.get("type") == "aws:cloudformation:stack" and name.startswith(prefix)
    ]
    if not stacks:
        raise InvalidInputError(
            f"No synthesized templates of {env!r} in {outdir}; run `hp infra synth {env}` first."
        )
    return stacks


class _References:
    """Resolves what a property points at, across stacks: Ref, Fn::GetAtt, and
    Fn::ImportValue through the exporting stack's output."""

    def __init__(self, stacks: list[StackTemplate]) -> None:
        self.exports: dict[str, tuple[str, Any]] = {}
        for stack in stacks:
            for output in stack.body.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    self.exports[export] = (stack.name, output["Value"])

    def of(self, stack: str, value: Any) -> Iterator[tuple[str, str]]:
        """Every (stack, logical id) that `value` refers to."""
        if isinstance(value, list):
            for item in value:
                yield from self.of(stack, item)
        elif isinstance(value, dict):
            if isinstance(value.get("Ref"), str):
                yield stack, value["Ref"]
            elif "Fn::GetAtt" in value:
                yield stack, value["Fn::GetAtt"][0]
            elif "Fn::ImportValue" in value and value["Fn::ImportValue"] in self.exports:
                exporter, exported = self.exports[value["Fn::ImportValue"]]
                yield from self.of(exporter, exported)
            else:
                for item in value.values():
                    yield from self.of(stack, item)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _short(name: str, env: str) -> str:
    """`health-platform-dev-uploads-111111111111` -> `uploads`: the part a reader needs."""
    name = re.sub(rf"^{PROJECT}[-/]{env}[-/]", "", name)
    return re.sub(r"-\d{12}$", "", name)


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _tasks(low: Any, high: Any) -> str:
    return f"{low} task{'s' if str(low) != '1' else ''}" if low == high else f"{low}-{high} tasks"


class _Builder:
    def __init__(self, env: str, stacks: list[StackTemplate]) -> None:
        self.env = env
        self.stacks = stacks
        self.refs = _References(stacks)
        self.model = Architecture(env)
        # (stack, logical id) -> the node that stands for that resource
        self.owner: dict[tuple[str, str], str] = {}
        self.subnet_tier: dict[tuple[str, str], str] = {}
        self.origins: list[str] = []  # CloudFront's origin domain names
        self.buckets: dict[str, str] = {}  # bucket name -> node
        self.endpoint_services: list[str] = []
        # The primary region: the network's (the DR stack lives in another).
        network = [s for s in stacks if s.name.endswith("-network")]
        self.home = network[0].region if network else min(s.region for s in stacks)

    # ---- helpers

    def _all(self, *kinds: str) -> Iterator[tuple[StackTemplate, str, dict[str, Any]]]:
        for stack in self.stacks:
            for logical_id, props in stack.resources(*kinds):
                yield stack, logical_id, props

    def _owned(self, stack: str, value: Any) -> list[str]:
        found: list[str] = []
        for ref in self.refs.of(stack, value):
            node = self.owner.get(ref)
            if node and node not in found:
                found.append(node)
        return found

    def _tier(self, stack: str, subnets: Any) -> str | None:
        tiers = {self.subnet_tier.get(ref) for ref in self.refs.of(stack, subnets)} - {None}
        return f"tier:{tiers.pop()}" if len(tiers) == 1 else None

    def _region_group(self, region: str) -> str:
        label = f"AWS {region}" + ("" if region == self.home else " (disaster recovery)")
        return self.model.group(f"region:{region}", label)

    def _in_region(self, region: str, id: str, label: str) -> str:
        return self.model.group(f"{id}:{region}", label, self._region_group(region))

    def _own(self, node: str, stack: StackTemplate, logical_id: str) -> None:
        self.owner[(stack.name, logical_id)] = node

    # ---- the parts, outside in

    def build(self) -> Architecture:
        self.model.node("users", "users", "Users")
        self._network()
        self._edge()
        self._data()
        self._registries()
        self._security()
        self._monitoring()
        self._services()
        self._links()
        self._copies()
        return self.model

    def _network(self) -> None:
        m = self.model
        for stack, vpc_id, props in self._all("AWS::EC2::VPC"):
            vpc = m.group(
                "vpc", f"VPC {props.get('CidrBlock', '')}", self._region_group(stack.region)
            )
            for tier, label in TIERS.items():
                m.group(f"tier:{tier}", label, vpc)
            for subnet_id, subnet in stack.resources("AWS::EC2::Subnet"):
                tags = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}
                tier = tags.get("aws-cdk:subnet-name", "")
                if tier in TIERS:
                    self.subnet_tier[(stack.name, subnet_id)] = tier
            self._own("vpc", stack, vpc_id)
        for stack, logical_id, _ in self._all("AWS::EC2::InternetGateway"):
            self._own(m.node("igw", "igw", "Internet gateway", "tier:public"), stack, logical_id)
        nats = list(self._all("AWS::EC2::NatGateway"))
        azs = {
            (stack.name, subnet_id): subnet.get("AvailabilityZone", "")
            for stack, subnet_id, subnet in self._all("AWS::EC2::Subnet")
        }
        for stack, logical_id, props in nats:
            zone = next((azs.get(r, "") for r in self.refs.of(stack.name, props["SubnetId"])), "")
            node = m.node(
                f"nat:{zone or logical_id}", "nat", _lines("NAT gateway", zone), "tier:public"
            )
            self._own(node, stack, logical_id)
            m.edge(node, "igw", dashed=True)
        endpoints: list[str] = []
        for stack, logical_id, props in self._all("AWS::EC2::VPCEndpoint"):
            service = "".join(_strings(props.get("ServiceName"))).rsplit(".", 1)
            name = service[-1] if service[-1] != "dkr" else "ecr.dkr"
            name = "ecr.api" if name == "api" else name
            kind = props.get("VpcEndpointType", "Interface").lower()
            endpoints.append(f"{name} ({kind})")
            self.endpoint_services.append(name)
            self._own("endpoints", stack, logical_id)
        if endpoints:
            m.node(
                "endpoints",
                "endpoints",
                _lines("VPC endpoints", *sorted(endpoints)),
                "tier:private",
            )

    def _edge(self) -> None:
        m = self.model
        zones: list[str] = []
        for stack, logical_id, props in self._all("AWS::Route53::RecordSet"):
            name = props.get("Name")
            if isinstance(name, str) and stack.name.endswith("-edge"):
                zones.append(name.rstrip("."))
                self._own("dns", stack, logical_id)
        edge = m.group("edge", "Global edge")
        if zones:
            m.node("dns", "route53", _lines("Route 53", *sorted(set(zones))), edge)
            m.edge("users", "dns", "DNS")
        for stack, logical_id, props in self._all("AWS::WAFv2::WebACL"):
            rules = len(props.get("Rules", []))
            label = _lines(f"WAF {props.get('Name', '')}", f"{rules} rules")
            self._own(m.node("waf", "waf", label, edge), stack, logical_id)
        for stack, logical_id, props in self._all("AWS::CloudFront::Distribution"):
            config = props.get("DistributionConfig", {})
            label = _lines(
                "CloudFront", ", ".join(config.get("Aliases", [])), config.get("PriceClass", "")
            )
            node = m.node("cdn", "cloudfront", label, edge)
            self._own(node, stack, logical_id)
            m.edge("dns" if m.has("dns") else "users", node, "HTTPS")
            for waf in self._owned(stack.name, config.get("WebACLId")):
                m.edge(waf, node, "filters", dashed=True)
            self.origins += [o.get("DomainName", "") for o in config.get("Origins", [])]

    def _data(self) -> None:
        m = self.model
        for stack, logical_id, props in self._all("AWS::RDS::DBInstance"):
            group = self._subnet_group_tier(stack, props.get("DBSubnetGroupName"))
            replica = "SourceDBInstanceIdentifier" in props
            storage = props.get("AllocatedStorage")
            label = _lines(
                f"RDS PostgreSQL {props.get('EngineVersion', '')}".rstrip()
                + (" (read replica)" if replica else ""),
                props.get("DBInstanceClass", "")
                + (", Multi-AZ" if props.get("MultiAZ") in (True, "true") else ""),
                f"{storage} GB {props.get('StorageType', '')}".rstrip() if storage else "",
                props.get("DBInstanceIdentifier", ""),
            )
            node = m.node(
                f"rds:{_short(props.get('DBInstanceIdentifier', logical_id), self.env)}",
                "rds",
                label,
                group,
            )
            self._own(node, stack, logical_id)
        for stack, _, props in self._all("AWS::RDS::DBInstance"):
            if "SourceDBInstanceIdentifier" in props:
                copy = f"rds:{_short(props.get('DBInstanceIdentifier', ''), self.env)}"
                for source in self._owned(stack.name, props["SourceDBInstanceIdentifier"]):
                    m.edge(source, copy, "replication", dashed=True)
        for stack, logical_id, props in self._all("AWS::ElastiCache::ReplicationGroup"):
            group = self._subnet_group_tier(stack, props.get("CacheSubnetGroupName"))
            shards = int(props.get("NumNodeGroups", 1))
            nodes = shards * (1 + int(props.get("ReplicasPerNodeGroup", 0)))
            nodes = int(props.get("NumCacheClusters", nodes))
            label = _lines(
                f"ElastiCache {_ENGINE_LABELS.get(props.get('Engine', 'redis'), 'Redis')}"
                f" {props.get('EngineVersion', '')}".rstrip(),
                f"{props.get('CacheNodeType', '')} x {nodes}"
                + (f" ({shards} shards)" if shards > 1 else ""),
                "Multi-AZ" if props.get("MultiAZEnabled") in (True, "true") else "",
                props.get("ReplicationGroupId", ""),
            )
            self._own(m.node("redis", "redis", label, group), stack, logical_id)
        for stack, logical_id, props in self._all("AWS::S3::Bucket"):
            name = props.get("BucketName", logical_id)
            storage = self._in_region(stack.region, "storage", "S3 buckets")
            node = m.node(f"s3:{_short(name, self.env)}", "s3", _short(name, self.env), storage)
            self._own(node, stack, logical_id)
            self.buckets[name] = node
        for stack, logical_id, props in self._all("AWS::Backup::BackupVault"):
            storage = self._in_region(stack.region, "storage", "S3 buckets")
            name = props.get("BackupVaultName", logical_id)
            node = m.node(f"backup:{name}", "backup", _lines("AWS Backup vault", name), storage)
            self._own(node, stack, logical_id)
        for stack, _, props in self._all("AWS::Backup::BackupSelection"):
            vaults = [self.owner.get((stack.name, v)) for _, v, _ in self._vaults(stack)]
            for database in self._owned(stack.name, props):
                for vault in filter(None, vaults):
                    m.edge(database, vault, "daily backup", dashed=True)

    def _vaults(self, stack: StackTemplate) -> Iterator[tuple[StackTemplate, str, dict[str, Any]]]:
        for logical_id, props in stack.resources("AWS::Backup::BackupVault"):
            yield stack, logical_id, props

    def _subnet_group_tier(self, stack: StackTemplate, ref: Any) -> str | None:
        for stack_name, logical_id in self.refs.of(stack.name, ref):
            group = next(s for s in self.stacks if s.name == stack_name)
            props = group.body["Resources"][logical_id].get("Properties", {})
            return self._tier(stack_name, props.get("SubnetIds"))
        return None

    def _registries(self) -> None:
        m = self.model
        repositories = [
            (stack, logical_id, props)
            for stack, logical_id, props in self._all("AWS::ECR::Repository")
        ]
        if repositories:
            group = self._region_group(repositories[0][0].region)
            names = sorted(props.get("RepositoryName", lid) for _, lid, props in repositories)
            m.node("ecr", "ecr", _lines("ECR", *names), group)
            for stack, logical_id, _ in repositories:
                self._own("ecr", stack, logical_id)

    def _security(self) -> None:
        m = self.model
        by_region: dict[str, list[str]] = {}
        for stack, _, props in self._all("AWS::KMS::Alias"):
            by_region.setdefault(stack.region, []).append(props.get("AliasName", ""))
            for key in self.refs.of(stack.name, props.get("TargetKeyId")):
                self.owner[key] = f"kms:{stack.region}"
        for stack, logical_id, _ in self._all("AWS::KMS::Key"):
            self.owner.setdefault((stack.name, logical_id), f"kms:{stack.region}")
        for region, aliases in by_region.items():
            group = self._in_region(region, "security", "Keys and secrets")
            shown = [re.sub(rf"^alias/{PROJECT}[-/]{self.env}/", "", a) for a in sorted(aliases)]
            m.node(f"kms:{region}", "kms", _lines("KMS keys", *shown), group)
        secrets = list(self._all("AWS::SecretsManager::Secret"))
        if secrets:
            group = self._in_region(secrets[0][0].region, "security", "Keys and secrets")
            names = []
            for stack, logical_id, _ in secrets:
                self._own("secrets", stack, logical_id)
                names.append(re.sub(r"[0-9A-F]{8}$", "", logical_id))
            for stack, logical_id, props in self._all(
                "AWS::SecretsManager::SecretTargetAttachment"
            ):
                for secret in self.refs.of(stack.name, props.get("SecretId")):
                    self.owner.setdefault(secret, "secrets")
                self._own("secrets", stack, logical_id)
            rotated = sum(1 for _ in self._all("AWS::SecretsManager::RotationSchedule"))
            label = _lines(
                "Secrets Manager",
                f"{len(secrets)} secrets" + (f", {rotated} rotated" if rotated else ""),
            )
            m.node("secrets", "secrets", label, group)
        parameters = sorted(
            {
                text.split(":parameter", 1)[1]
                for _, _, props in self._all("AWS::ECS::TaskDefinition")
                for text in [
                    "".join(_strings(secret.get("ValueFrom")))
                    for container in props.get("ContainerDefinitions", [])
                    for secret in container.get("Secrets", [])
                ]
                if ":parameter" in text
            }
        )
        if parameters:
            group = self._in_region(self.home, "security", "Keys and secrets")
            m.node("ssm", "ssm", _lines("SSM Parameter Store", *parameters), group)

    def _services(self) -> None:
        m = self.model
        for stack, logical_id, props in self._all("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            tier = self._tier(stack.name, props.get("Subnets"))
            listeners = [
                f"{p.get('Protocol')} :{p.get('Port')}"
                for _, _, p in self._all("AWS::ElasticLoadBalancingV2::Listener")
            ]
            label = _lines(f"ALB ({props.get('Scheme', '')})", *sorted(listeners))
            self._own(m.node("alb", "alb", label, tier), stack, logical_id)
        for stack, _, props in self._all("AWS::Route53::RecordSet"):
            target = self._owned(stack.name, props.get("AliasTarget"))
            name = str(props.get("Name", "")).rstrip(".")
            if "alb" in target and name in self.origins:
                m.edge("cdn", "alb", f"HTTPS {name}")
        # Which target group a path reaches, from the listener's default and its rules.
        routes: dict[tuple[str, str], list[str]] = {}
        for stack, _, props in self._all("AWS::ElasticLoadBalancingV2::Listener"):
            for action in props.get("DefaultActions", []):
                for ref in self.refs.of(stack.name, action.get("TargetGroupArn")):
                    routes.setdefault(ref, []).append("/*")
        for stack, _, props in self._all("AWS::ElasticLoadBalancingV2::ListenerRule"):
            paths = [
                value
                for condition in props.get("Conditions", [])
                for value in condition.get("PathPatternConfig", {}).get("Values", [])
            ]
            for action in props.get("Actions", []):
                for ref in self.refs.of(stack.name, action.get("TargetGroupArn")):
                    routes.setdefault(ref, []).extend(paths)
        capacity: dict[str, tuple[Any, Any]] = {}
        for stack, _, props in self._all("AWS::ApplicationAutoScaling::ScalableTarget"):
            for ref in self.refs.of(stack.name, props.get("ResourceId")):
                capacity[ref[1]] = (props.get("MinCapacity"), props.get("MaxCapacity"))
        tasks = {(s.name, lid): p for s, lid, p in self._all("AWS::ECS::TaskDefinition")}
        placed: set[tuple[str, str]] = set()
        for stack, logical_id, props in self._all("AWS::ECS::Service"):
            network = props.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
            tier = self._tier(stack.name, network.get("Subnets"))
            task_ref = next(self.refs.of(stack.name, props.get("TaskDefinition")))
            placed.add(task_ref)
            task = tasks.get(task_ref, {})
            providers = [
                p["CapacityProvider"] for p in props.get("CapacityProviderStrategy", [])
            ] or [props.get("LaunchType", "FARGATE")]
            low, high = capacity.get(logical_id, (props.get("DesiredCount", 1),) * 2)
            name = props.get("ServiceName", logical_id)
            label = _lines(
                f"ECS service {name}",
                f"{int(task.get('Cpu', 0)) / 1024:g} vCPU, {task.get('Memory', '?')} MiB",
                _tasks(low, high),
                "+".join(providers),
            )
            node = m.node(f"ecs:{name}", "ecs", label, tier)
            self._own(node, stack, logical_id)
            self._task_edges(node, stack, task)
            for balancer in props.get("LoadBalancers", []):
                for ref in self.refs.of(stack.name, balancer.get("TargetGroupArn")):
                    m.edge("alb", node, ", ".join(routes.get(ref, [])))
        # One-off task definitions (the migrations) run in the services' subnets.
        for (stack_name, logical_id), task in tasks.items():
            if (stack_name, logical_id) in placed:
                continue
            stack = next(s for s in self.stacks if s.name == stack_name)
            family = _short(task.get("Family", logical_id), self.env)
            label = _lines(f"one-off task {family}", f"{int(task.get('Cpu', 0)) / 1024:g} vCPU")
            node = m.node(f"task:{family}", "task", label, "tier:private")
            self._task_edges(node, stack, task, service=False)

    def _task_edges(
        self, node: str, stack: StackTemplate, task: dict[str, Any], *, service: bool = True
    ) -> None:
        """What a task's containers are given (endpoints, bucket names, secrets, log groups)
        is what they talk to."""
        m = self.model
        for container in task.get("ContainerDefinitions", []):
            for variable in container.get("Environment", []):
                for target in self._owned(stack.name, variable.get("Value")):
                    if target.startswith(("rds:", "redis", "s3:")):
                        m.edge(node, target, variable["Name"].split("_")[0].lower())
            for secret in container.get("Secrets", []):
                text = "".join(_strings(secret.get("ValueFrom")))
                if ":parameter" in text and m.has("ssm"):
                    m.edge(node, "ssm", "secrets", dashed=True)
                for target in self._owned(stack.name, secret.get("ValueFrom")):
                    if target == "secrets":
                        m.edge(node, target, "secrets", dashed=True)
            if container.get("LogConfiguration"):
                m.edge(node, "cloudwatch", "logs", dashed=True)
        for nat in (n.id for n in m.nodes if n.kind == "nat" and service):
            m.edge(node, nat, "egress", dashed=True)
        # Only S3's gateway (dev's cost option): the other AWS APIs go out through the NAT.
        reached = "AWS APIs" if set(self.endpoint_services) - {"s3"} else "S3"
        m.edge(node, "endpoints", reached, dashed=True)

    def _monitoring(self) -> None:
        m = self.model
        alarms = list(self._all("AWS::CloudWatch::Alarm"))
        logs = list(self._all("AWS::Logs::LogGroup"))
        dashboards = [
            p.get("DashboardName", "") for _, _, p in self._all("AWS::CloudWatch::Dashboard")
        ]
        group = self._in_region(self.home, "monitoring", "Monitoring")
        label = _lines(
            "CloudWatch",
            f"{len(alarms)} alarms, {len(logs)} log groups",
            *(f"dashboard {d}" for d in dashboards),
        )
        m.node("cloudwatch", "cloudwatch", label, group)
        for stack, logical_id, props in self._all("AWS::SNS::Topic"):
            protocols = sorted(
                {
                    p.get("Protocol", "")
                    for s, _, p in self._all("AWS::SNS::Subscription")
                    if (stack.name, logical_id) in set(self.refs.of(s.name, p.get("TopicArn")))
                }
            )
            chat = any(True for _ in self._all("AWS::Chatbot::SlackChannelConfiguration"))
            label = _lines(
                f"SNS {props.get('TopicName', logical_id)}",
                ", ".join([*protocols, *(["Slack (Chatbot)"] if chat else [])]),
            )
            self._own(m.node("sns", "sns", label, group), stack, logical_id)
        for stack, _, props in alarms:
            for target in self._owned(stack.name, props.get("AlarmActions")):
                m.edge("cloudwatch", target, "alarms")
        for stack, logical_id, props in self._all("AWS::CloudTrail::Trail"):
            label = _lines("CloudTrail", props.get("TrailName", logical_id))
            node = m.node("cloudtrail", "cloudtrail", label, group)
            for bucket in self._owned(stack.name, props.get("S3BucketName")):
                m.edge(node, bucket, "audit log", dashed=True)

    def _links(self) -> None:
        """Edges between parts built before: endpoints, CDN origins, access logs."""
        m = self.model
        # What the VPC endpoints reach without leaving the network.
        for name in self.endpoint_services:
            target = _ENDPOINT_TARGETS.get(name)
            if target == "storage":
                target = next((n.id for n in m.nodes if n.id.endswith(":uploads")), None)
            if target:
                m.edge("endpoints", target, dashed=True)
        # Who serves what the CDN fetches from a bucket.
        for name, node in self.buckets.items():
            if any(origin.startswith(f"{name}.s3.") for origin in self.origins):
                m.edge("cdn", node, "static assets")
        for stack, _, props in self._all("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            for attribute in props.get("LoadBalancerAttributes", []):
                if attribute.get("Key") == "access_logs.s3.bucket":
                    for bucket in self._owned(stack.name, attribute.get("Value")):
                        m.edge("alb", bucket, "access logs", dashed=True)

    def _copies(self) -> None:
        """Copies into the disaster-recovery region: bucket replication, the backup plan's
        copy action, RDS automated-backup replication and ECR replication, named by ARN."""
        m = self.model
        vaults = {
            props.get("BackupVaultName"): self.owner[(stack.name, logical_id)]
            for stack, logical_id, props in self._all("AWS::Backup::BackupVault")
        }
        for stack, logical_id, props in self._all("AWS::S3::Bucket"):
            for rule in props.get("ReplicationConfiguration", {}).get("Rules", []):
                arn = "".join(_strings(rule.get("Destination", {}).get("Bucket")))
                target = self.buckets.get(arn.rsplit(":", 1)[-1])
                if target:
                    m.edge(self.owner[(stack.name, logical_id)], target, "replication", dashed=True)
        for stack, _, props in self._all("AWS::Backup::BackupPlan"):
            for rule in props.get("BackupPlan", {}).get("BackupPlanRule", []):
                sources = self._owned(stack.name, rule.get("TargetBackupVault"))
                for action in rule.get("CopyActions", []):
                    arn = "".join(_strings(action.get("DestinationBackupVaultArn")))
                    target = vaults.get(arn.rsplit(":", 1)[-1])
                    for source in sources:
                        if target:
                            m.edge(source, target, "copy", dashed=True)
        for stack, _, props in self._all("Custom::AWS"):
            call = "".join(_strings(props.get("Create")))
            found = re.search(r'"region":"([a-z0-9-]+)"', call)
            if "StartDBInstanceAutomatedBackupsReplication" in call and found:
                region = found[1]
                group = self._in_region(region, "storage", "S3 buckets")
                node = f"rds-backups:{region}"
                if not m.has(node):
                    m.node(node, "rds", _lines("RDS automated backups", region), group)
                for database in self._owned(stack.name, props.get("Create")):
                    m.edge(database, node, "automated backups", dashed=True)
        for _, _, props in self._all("AWS::ECR::ReplicationConfiguration"):
            for rule in props.get("ReplicationConfiguration", {}).get("Rules", []):
                for destination in rule.get("Destinations", []):
                    region = destination.get("Region", "")
                    group = self._in_region(region, "registry", "Images")
                    node = m.node(f"ecr:{region}", "ecr", _lines("ECR replicas", region), group)
                    m.edge("ecr", node, "replication", dashed=True)


def architecture(env: str, stacks: list[StackTemplate]) -> Architecture:
    """The model of `env` drawn from its stacks' templates."""
    return _Builder(env, stacks).build()


def read_architecture(outdir: Path, env: str) -> Architecture:
    return architecture(env, load_templates(outdir, env))
