"""Watchkeeper: a self-hosted SRE platform."""
