"""Logs and metrics of the notifier."""
