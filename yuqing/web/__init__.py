"""The web dashboard (FastAPI + server-rendered Jinja2 templates)."""
