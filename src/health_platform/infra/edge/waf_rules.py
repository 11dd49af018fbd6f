"""The AWS managed WAF rules this project names, as plain data (no CDK): the firewall
builds its web ACL from them and the deployability pack checks web ACLs against them.

The rules that read a request's body refuse uploads: a document's size trips the common
set's 8 KB limit, and a PDF's or an image's bytes read as script, file paths or SQL often
enough. Each is counted (it still labels the request), and one rule then blocks what they
labelled everywhere but the API's large-body routes."""

from __future__ import annotations

COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
SQLI_RULE_SET = "AWSManagedRulesSQLiRuleSet"
MANAGED_RULE_GROUPS = (
    COMMON_RULE_SET,
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    SQLI_RULE_SET,
)

_CORE = "awswaf:managed:aws:core-rule-set"
_SQL = "awswaf:managed:aws:sql-database"
# Per rule group: its rules that inspect the body, and the label each adds on a match.
BODY_RULES: dict[str, dict[str, str]] = {
    COMMON_RULE_SET: {
        "SizeRestrictions_BODY": f"{_CORE}:SizeRestrictions_Body",
        "CrossSiteScripting_BODY": f"{_CORE}:CrossSiteScripting_Body",
        "GenericLFI_BODY": f"{_CORE}:GenericLFI_Body",
        "GenericRFI_BODY": f"{_CORE}:GenericRFI_Body",
        "EC2MetaDataSSRF_BODY": f"{_CORE}:EC2MetaDataSSRF_Body",
    },
    SQLI_RULE_SET: {
        "SQLi_BODY": f"{_SQL}:SQLi_Body",
        "SQLiExtendedPatterns_BODY": f"{_SQL}:SQLiExtendedPatterns_Body",
    },
}
BODY_RULE_LABELS = tuple(label for rules in BODY_RULES.values() for label in rules.values())
# The rule that blocks what the body rules labelled, except on the large-body routes.
BODY_RULES_OUTSIDE_UPLOADS = "BodyRulesOutsideUploadRoutes"
