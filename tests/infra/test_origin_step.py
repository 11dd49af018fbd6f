"""The step between a load balancer on public IPv4 and one on IPv6 only (`edge.origin_ip:
dualstack`, docs/operations.md): both prefix lists, each in a group of its own, both
address families on the load balancer, CloudFront free to use either; and the whole
environment still passes the gate."""

from __future__ import annotations

from pathlib import Path

from health_platform.infra.compliance.check import run_check
from health_platform.infra.naming import EDGE, SERVICES, stack_name
from health_platform.settings import load_environments
from tests.conftest import EnvironmentFiles
from tests.infra.conftest import Synthesis


def test_dualstack_keeps_both_ways_in_and_passes_the_gate(
    environment_files: EnvironmentFiles, tmp_path: Path
) -> None:
    environment_files.edit("dev", "edge.origin_ip", "dualstack")
    dev = load_environments(["dev"], directory=environment_files.directory)[0]
    reports = run_check([dev], tmp_path)
    assert [r.stack for r in reports if r.findings] == []
    out = Synthesis(tmp_path, {"dev": dev}, {})
    (balancer,) = out.resources(
        "dev", SERVICES, "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ).values()
    assert balancer["Properties"]["IpAddressType"] == "dualstack"
    rules = out.resources("dev", SERVICES, "AWS::EC2::SecurityGroupIngress").values()
    groups = {r["Properties"]["GroupId"]["Fn::GetAtt"][0][:-8]: r["Properties"] for r in rules}
    assert (
        groups["LoadBalancerSecurityGroup"]["SourcePrefixListId"]
        == dev.edge.cloudfront_prefix_list_id
    )
    assert "Fn::GetAtt" in groups["LoadBalancerCloudFrontIpv6"]["SourcePrefixListId"]
    records = out.resources("dev", SERVICES, "AWS::Route53::RecordSet").values()
    assert {r["Properties"]["Type"] for r in records if "origin." in r["Properties"]["Name"]} == {
        "A",
        "AAAA",
    }
    (cdn,) = out.resources("dev", EDGE, "AWS::CloudFront::Distribution").values()
    origins = cdn["Properties"]["DistributionConfig"]["Origins"]
    (custom,) = [o["CustomOriginConfig"] for o in origins if "CustomOriginConfig" in o]
    assert custom["IpAddressType"] == "dualstack"
    assert (tmp_path / f"{stack_name('dev', SERVICES)}.template.json").exists()
