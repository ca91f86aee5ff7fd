"""`POST /track/batch` (API.md, Core; docs/entitlements.md, Batch ingestion): up to 1,000
tracks in one request, each answered by /track's rules.

The envelope is validated as a whole (a 422 for a missing or malformed `events`); each event on
its own, so that a bad event answers `error` with /track's error object and the others are
recorded. An event whose fields are plain (billing.api.usage_fast_views.plain_track_fields)
skips the serializer: at a thousand events a request, DRF's field machinery would cost more
than the database.
"""

from __future__ import annotations

from rest_framework import serializers

from billing.api.shapes.entitlements import TrackBatchResultShape
from billing.api.usage import TrackInput, balance_fields, parsed
from billing.api.usage_fast_views import plain_track_fields
from billing.services import usage_batch
from billing.services.usage import Answer
from cynco import metrics
from cynco.api.schema import openapi
from cynco.api.views import ApiView
from cynco.errors import ApiError, validation_failed
from cynco.permissions import publishable_with_scope
from cynco.responses import ok


class TrackEventInput(TrackInput):
    """One event: /track's body, and the time it happened, kept for the producer's records
    only (usage counts in the period it arrives in, as /track's does)."""

    timestamp = serializers.DateTimeField(required=False)


class TrackBatchEnvelope(serializers.Serializer):
    events = serializers.ListField(min_length=1, max_length=usage_batch.MAX_EVENTS)


class TrackBatchInput(serializers.Serializer):
    """What the OpenAPI document shows: the events' own shape (TrackEventInput)."""

    events = serializers.ListField(
        child=TrackEventInput(), min_length=1, max_length=usage_batch.MAX_EVENTS,
        help_text="At most 1,000, applied in this order; each is validated on its own: a bad "
                  "one answers `error` and the others are recorded.")


def event_of(raw) -> usage_batch.TrackEvent | ApiError:
    """One event of the batch, or the 422 /track answers for such a body."""
    fields = plain_track_fields(raw) if type(raw) is dict and "timestamp" not in raw else None
    if fields is None:
        if type(raw) is not dict:
            return validation_failed({"body": ["Expected a JSON object."]})
        serializer = TrackEventInput(data=raw)
        if not serializer.is_valid():
            return validation_failed(serializer.errors)
        values = serializer.validated_data
        fields = {"customer": values["customer"], "feature": values["feature"],
                  "amount": values["amount"], "entity_key": values["entityId"],
                  "idempotency_key": values.get("idempotencyKey"),
                  "metadata": values.get("metadata")}
    if fields["metadata"] is not None and _holds_nul(fields["metadata"]):
        # PostgreSQL's jsonb refuses it: /track answers 422 for the request; here the event.
        return validation_failed({"metadata": ["A value is malformed or out of range"]})
    return usage_batch.TrackEvent(**fields)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def result_of(index: int, outcome: Answer | ApiError) -> dict:
    if isinstance(outcome, ApiError):
        return {"index": index, "status": "error", "error": {
            "code": outcome.code, "message": outcome.message, "details": outcome.details}}
    status = ("accepted" if outcome.recorded else "duplicate" if outcome.duplicate
              else "denied")
    return {"index": index, "status": status, "balance": balance_fields(outcome)["balance"]}


class TrackBatchView(ApiView):
    permission_classes = [publishable_with_scope("track")]

    @openapi("track_batch", summary="Record a batch of usage events (up to 1,000)",
             description="Each event follows /track's rules, in the order given; `results` "
                         "answers every event by its `index`.",
             input=TrackBatchInput, data=TrackBatchResultShape)
    def post(self, request):
        raw_events = parsed(TrackBatchEnvelope, request)["events"]
        events = [event_of(raw) for raw in raw_events]
        valid = [index for index, event in enumerate(events) if not isinstance(event, ApiError)]
        answers = usage_batch.usage_track_batch(
            scope=self.scope, events=[events[index] for index in valid])
        for index, answer in zip(valid, answers):
            events[index] = answer
        metrics.usage_batch_answered(answers)
        return ok({"results": [result_of(index, outcome)
                               for index, outcome in enumerate(events)]})
