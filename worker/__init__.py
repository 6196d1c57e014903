"""Celery workers: a thin shell around judge/."""
