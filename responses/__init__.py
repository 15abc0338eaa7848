"""Responses: statements, press conferences, the approval procedure and timeliness reports."""
