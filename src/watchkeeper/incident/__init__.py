"""Incidents: severities, lifecycle, roles, timeline, links to alert groups and SLOs, metrics."""
