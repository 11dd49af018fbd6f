"""Drawing the model: PNG, SVG, PDF or Graphviz source with mingrammer's `diagrams` (the
AWS icon set, laid out by Graphviz), or Mermaid text, which needs no Graphviz and which
GitHub renders where it is embedded."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from health_platform.diagram.model import Architecture, Group
from health_platform.errors import InvalidInputError, ToolchainError

GRAPHVIZ_FORMATS = ("png", "svg", "pdf", "dot")
FORMATS = (*GRAPHVIZ_FORMATS, "mmd")


def output_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = ", ".join(f".{f}" for f in FORMATS)
        raise InvalidInputError(f"Cannot draw {path.name!r}: the file name must end in {shown}.")
    return suffix


def render(model: Architecture, path: Path) -> None:
    """Write the model to `path`, in the format its suffix names."""
    fmt = output_format(path)
    if fmt == "mmd":
        path.write_text(mermaid(model))
        return
    if fmt != "dot" and shutil.which("dot") is None:
        raise ToolchainError(
            "Graphviz's `dot` is not installed (Debian package graphviz; `make setup`"
            " installs it); a .mmd (Mermaid) output needs no Graphviz."
        )
    _draw(model, path, fmt)


def _icons() -> dict[str, Any]:
    # Imported here: `diagrams` loads Graphviz bindings and hundreds of icon classes.
    from diagrams.aws.compute import ECR, ElasticContainerServiceContainer, Fargate
    from diagrams.aws.database import ElasticacheForRedis, RDSPostgresqlInstance
    from diagrams.aws.integration import SNS
    from diagrams.aws.management import Cloudtrail, Cloudwatch, SystemsManagerParameterStore
    from diagrams.aws.network import (
        CloudFront,
        ElbApplicationLoadBalancer,
        Endpoint,
        InternetGateway,
        NATGateway,
        Route53,
    )
    from diagrams.aws.security import KMS, WAF, SecretsManager
    from diagrams.aws.storage import Backup, SimpleStorageServiceS3Bucket
    from diagrams.onprem.client import Users

    return {
        "users": Users,
        "route53": Route53,
        "cloudfront": CloudFront,
        "waf": WAF,
        "alb": ElbApplicationLoadBalancer,
        "igw": InternetGateway,
        "nat": NATGateway,
        "endpoints": Endpoint,
        "ecs": Fargate,
        "task": ElasticContainerServiceContainer,
        "rds": RDSPostgresqlInstance,
        "redis": ElasticacheForRedis,
        "s3": SimpleStorageServiceS3Bucket,
        "backup": Backup,
        "ecr": ECR,
        "kms": KMS,
        "secrets": SecretsManager,
        "ssm": SystemsManagerParameterStore,
        "cloudwatch": Cloudwatch,
        "sns": SNS,
        "cloudtrail": Cloudtrail,
    }


def _draw(model: Architecture, path: Path, fmt: str) -> None:
    from diagrams import Cluster, Diagram, Edge

    icons = _icons()
    children: dict[str | None, list[Group]] = {}
    for group in model.groups:
        children.setdefault(group.parent, []).append(group)
    drawn: dict[str, Any] = {}

    def place(group_id: str | None) -> None:
        for node in sorted((n for n in model.nodes if n.group == group_id), key=lambda n: n.id):
            drawn[node.id] = icons[node.kind](node.label)
        for group in children.get(group_id, []):  # in the order the model built them
            with Cluster(group.label):
                place(group.id)

    # diagrams writes `<filename>.<format>`; draw in a scratch directory and move the
    # result, so a failed run leaves no half-written file where the user asked.
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "architecture"
        with Diagram(
            f"health-platform {model.env}",
            filename=str(base),
            outformat=fmt,
            show=False,
            direction="TB",
            curvestyle="curved",
            graph_attr={"fontsize": "20", "pad": "0.4", "nodesep": "0.5", "ranksep": "1.2"},
            node_attr={"fontsize": "11"},
        ):
            place(None)
            for edge in model.edges:
                style = "dashed" if edge.dashed else "solid"
                drawn[edge.source] >> Edge(label=edge.label, style=style) >> drawn[edge.target]
        shutil.move(f"{base}.{fmt}", path)


def mermaid(model: Architecture) -> str:
    """The model as a Mermaid flowchart: groups are subgraphs, ids are made safe."""

    def safe(id: str) -> str:
        return "".join(c if c.isalnum() else "_" for c in id)

    def text(label: str) -> str:
        return label.replace('"', "'").replace("\n", "<br/>")

    lines = ["flowchart LR"]
    children: dict[str | None, list[Group]] = {}
    for group in model.groups:
        children.setdefault(group.parent, []).append(group)

    def place(group_id: str | None, indent: str) -> None:
        for node in sorted((n for n in model.nodes if n.group == group_id), key=lambda n: n.id):
            lines.append(f'{indent}{safe(node.id)}["{text(node.label)}"]')
        for group in children.get(group_id, []):  # in the order the model built them
            lines.append(f'{indent}subgraph {safe(group.id)}["{text(group.label)}"]')
            place(group.id, indent + "  ")
            lines.append(f"{indent}end")

    place(None, "  ")
    for edge in model.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f"|{text(edge.label)}|" if edge.label else ""
        lines.append(f"  {safe(edge.source)} {arrow}{label} {safe(edge.target)}")
    return "\n".join(lines) + "\n"
