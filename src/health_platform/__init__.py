"""health-platform: a Personal Health Platform on AWS, its services and its life-cycle CLI."""

__version__ = "0.1.0"
