"""`hp cost`: a monthly estimate of an environment's AWS bill, by component.

Three inputs, each kept in one place: the prices (`prices.yaml`, dated, with its sources),
the usage the estimate assumes (`assumptions.yaml`, overridable per run), and the resources
(environments/<env>.yaml through the settings, counts from the synthesized templates when
`cdk.out/` has them). The same estimate is made for the seed specification's literal
configuration, so the choices that save money can be shown beside it.
"""
