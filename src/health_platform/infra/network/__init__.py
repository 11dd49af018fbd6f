"""The network tier: VPC, subnets, gateways, endpoints, flow logs, database NACLs."""
