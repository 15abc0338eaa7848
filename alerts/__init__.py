"""Alerts: deadline policy and clocks, notification channels, roster, escalation."""
