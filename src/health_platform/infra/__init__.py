"""The Personal Health Platform as AWS CDK code.

Nothing here is imported by `hp --help`: importing aws_cdk starts a Node process (jsii).
Constructs take typed settings and expose typed attributes; stacks only compose and wire.
"""
