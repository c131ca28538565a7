"""Persistence: the SQLAlchemy feature store and the MLflow tracking helpers."""
