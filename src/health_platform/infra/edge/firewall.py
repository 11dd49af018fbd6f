"""A WAF web ACL for CloudFront: AWS managed rule groups and a per-address rate limit,
logging every blocked request to an encrypted log group. The managed rules that read the
body only count on the API's large-body routes (see waf_rules)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from health_platform.contract import LARGE_BODY_ROUTES
from health_platform.infra.edge.waf_rules import (
    BODY_RULE_LABELS,
    BODY_RULES,
    BODY_RULES_OUTSIDE_UPLOADS,
    MANAGED_RULE_GROUPS,
)
from health_platform.infra.log_groups import encrypted_log_group


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _managed(group: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    counted = [
        wafv2.CfnWebACL.RuleActionOverrideProperty(
            name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
        )
        for rule in BODY_RULES.get(group, {})
    ]
    return wafv2.CfnWebACL.RuleProperty(
        name=group,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=group, rule_action_overrides=counted or None
            )
        ),
        visibility_config=_visibility(group),
    )


def _exactly(
    field: wafv2.CfnWebACL.FieldToMatchProperty, value: str
) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=field,
            positional_constraint="EXACTLY",
            search_string=value,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
            ],
        )
    )


def _large_body_route(method: str, path: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(
            statements=[
                _exactly(wafv2.CfnWebACL.FieldToMatchProperty(method={}), method),
                _exactly(wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), path),
            ]
        )
    )


def _either(
    statements: list[wafv2.CfnWebACL.StatementProperty],
) -> wafv2.CfnWebACL.StatementProperty:
    if len(statements) == 1:
        return statements[0]
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=statements)
    )


def _body_rules_outside_uploads(priority: int) -> wafv2.CfnWebACL.RuleProperty:
    """Block what a counted body rule labelled, except on the API's large-body routes."""
    labelled = _either(
        [
            wafv2.CfnWebACL.StatementProperty(
                label_match_statement=wafv2.CfnWebACL.LabelMatchStatementProperty(
                    scope="LABEL", key=label
                )
            )
            for label in BODY_RULE_LABELS
        ]
    )
    upload = _either([_large_body_route(method, path) for method, path in LARGE_BODY_ROUTES])
    return wafv2.CfnWebACL.RuleProperty(
        name=BODY_RULES_OUTSIDE_UPLOADS,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            and_statement=wafv2.CfnWebACL.AndStatementProperty(
                statements=[
                    labelled,
                    wafv2.CfnWebACL.StatementProperty(
                        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=upload)
                    ),
                ]
            )
        ),
        visibility_config=_visibility(BODY_RULES_OUTSIDE_UPLOADS),
    )


class WebFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        rate_limit_per_5_minutes: int,
        logs_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        rate_limit = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerAddress",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit_per_5_minutes, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RateLimitPerAddress"),
        )
        # The label rule comes after every group that labels: WAF evaluates in order.
        managed = [
            _managed(group, priority) for priority, group in enumerate(MANAGED_RULE_GROUPS, 1)
        ]
        rules = [rate_limit, *managed, _body_rules_outside_uploads(len(managed) + 1)]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=_visibility(name),
        )
        # WAF requires the "aws-waf-logs-" prefix on its log destinations.
        log_group = encrypted_log_group(
            self,
            "Logs",
            name=f"aws-waf-logs-{name}",
            key=logs_key,
            retention_days=log_retention_days,
        )
        # WAF wants the group's ARN without the ":*" that CloudFormation's Arn carries.
        log_group_arn = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"aws-waf-logs-{name}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group_arn],
        )
        logging.node.add_dependency(log_group)
