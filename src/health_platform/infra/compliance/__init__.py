"""The offline compliance gate: cfn-lint and the cdk-nag HIPAA Security pack."""
