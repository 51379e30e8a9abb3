"""The refusals of video jobs (core.http maps each kind to its status code)."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, TooManyRequests


class JobAlreadyFinished(Conflict):
    default_message = "This job has already finished; it cannot be cancelled."


class TooManyJobsInFlight(TooManyRequests):
    default_message = "You have too many video jobs in progress."


class VideoParameterError(InvalidInput):
    """A value the chosen model (or this API) does not accept; 400 naming the field."""
