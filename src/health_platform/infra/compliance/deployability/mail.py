"""Email: SES sends only from an address a verified identity of the account covers (the
address itself, its domain, or a parent domain of it); any other sender is refused at
send time with MessageRejected, long after the deployment looked fine."""

from __future__ import annotations

from collections.abc import Iterator

from health_platform.contract import env_name
from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)


def _covers(identity: str, sender: str) -> bool:
    domain = sender.rpartition("@")[2].lower()
    identity = identity.lower()
    return identity in (sender.lower(), domain) or domain.endswith("." + identity)


def _unverified_senders(env: Environment) -> Iterator[tuple[Resource, str]]:
    identities = [
        literal(identity.properties.get("EmailIdentity")) or ""
        for identity in env.resources("AWS::SES::EmailIdentity")
    ]
    for task in env.resources("AWS::ECS::TaskDefinition"):
        for container in task.properties.get("ContainerDefinitions", []):
            variables = {
                item.get("Name"): literal(item.get("Value"))
                for item in container.get("Environment", [])
            }
            if variables.get(env_name("mail_backend")) != "ses":
                continue
            sender = variables.get(env_name("mail_from")) or ""
            if not any(_covers(identity, sender) for identity in identities if identity):
                yield (
                    task,
                    (
                        f"container {container.get('Name')} sends email through SES from"
                        f" {sender or 'no address'}, which no SES identity of these templates"
                        f" covers ({', '.join(filter(None, identities)) or 'none'}): SES"
                        " refuses every message"
                    ),
                )


SES_SENDER_VERIFIED = Rule(
    "HP-SES-SENDER",
    "A container that emails through SES sends from an address a verified identity covers",
    "https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html",
    _unverified_senders,
)
