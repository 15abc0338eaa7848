"""The base every package stands on: settings, database, clock, audit log and people.

Nothing here imports crawler, analysis, alerts, responses or the shells (CLI, daemon, web)."""
