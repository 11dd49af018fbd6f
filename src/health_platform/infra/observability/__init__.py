"""Alerts, alarms, dashboard, budget and the audit trail."""
