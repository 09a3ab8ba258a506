"""Reports across domains: leadership trends (computed by flows/trends.py)."""
