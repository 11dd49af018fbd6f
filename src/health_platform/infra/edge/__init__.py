"""The edge: CloudFront, its certificate, WAF and DNS (all in us-east-1, as CloudFront needs)."""
