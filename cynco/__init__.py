"""Project package: settings, urls, the Celery app, and the platform every app uses."""

from cynco.celery import app as celery_app

__all__ = ("celery_app",)
