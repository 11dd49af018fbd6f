"""The data tier: keys, PostgreSQL, Redis, buckets and backups. Everything here is stateful."""
