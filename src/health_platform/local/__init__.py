"""The platform on one machine: PostgreSQL, Redis, the API, Nginx — no cloud account."""
