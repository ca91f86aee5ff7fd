"""Celery's task signals → job metrics (cynco.metrics) and the task's log context.

Connected once by CyncoConfig.ready(), in web and worker processes alike (a web process that
runs a task eagerly counts it too)."""

from __future__ import annotations

from celery import signals

from cynco import metrics
from cynco.log_format import task as current_task

_tokens: dict[str, object] = {}


def _name(task, sender) -> str:
    return getattr(task, "name", None) or getattr(sender, "name", None) or "unknown"


@signals.task_prerun.connect
def _task_started(sender=None, task_id=None, task=None, **_):
    metrics.job_started(task_id)
    _tokens[task_id] = current_task.set((task_id, _name(task, sender)))


@signals.task_postrun.connect
def _task_ended(sender=None, task_id=None, task=None, state=None, **_):
    metrics.job_finished(task_id, _name(task, sender), succeeded=state == "SUCCESS")
    token = _tokens.pop(task_id, None)
    if token is not None:
        try:
            current_task.reset(token)
        except ValueError:  # ended in another context than it started (a green thread pool)
            current_task.set(None)
