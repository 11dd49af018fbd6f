"""The application tier: ECS on Fargate, the load balancer, autoscaling."""
