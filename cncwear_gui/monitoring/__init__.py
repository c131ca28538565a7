"""Prometheus metrics, drift, model statistics, the automated pipeline and its triggers."""
