"""Celery signal handlers: the request id of the web request that sends a task travels in
the task's headers, and the worker's log lines for that task carry it (a task sent by beat
gets its own task id instead). Connected in OperationsConfig.ready()."""

from __future__ import annotations

from operations import context

HEADER = "studio_request_id"
_tokens: dict[str, tuple] = {}


def add_request_id(headers=None, **kwargs) -> None:
    request_id = context.current_request_id()
    if headers is not None and request_id and HEADER not in headers:
        headers[HEADER] = request_id


def task_started(task_id=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    incoming = getattr(request, HEADER, None) or ((getattr(request, "headers", None) or {}).get(HEADER))
    request_id = context.accept_request_id(incoming) if incoming else f"task-{task_id}"
    _tokens[task_id] = (context.request_id_var.set(request_id), context.request_var.set(None))


def task_ended(task_id=None, **kwargs) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        try:
            context.request_id_var.reset(tokens[0])
            context.request_var.reset(tokens[1])
        except ValueError:  # set in another context (should not happen): leave it
            pass
