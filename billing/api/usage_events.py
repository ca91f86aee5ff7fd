"""`/events`: usage over time, for charts (API.md, Billing, events, analytics). Secret keys
only; browsers (the React `useAggregateEvents` hook) go through the merchant's backend."""

from __future__ import annotations

from rest_framework import serializers

from billing.api.shapes.entitlements import UsageTimelineShape
from billing.api.usage import StrictChoiceField, parsed
from billing.selectors.entitlements import GROUPS, RANGE_DAYS, usage_timeline
from cynco import clock
from cynco.api.schema import openapi
from cynco.api.views import ApiView
from cynco.fields import StrictCharField
from cynco.responses import ok


class EventsInput(serializers.Serializer):
    customer = StrictCharField(max_length=255)
    feature = StrictCharField(max_length=100)
    range = StrictChoiceField(choices=list(RANGE_DAYS), required=False, default="30d")
    groupBy = StrictChoiceField(choices=list(GROUPS), required=False, default="day")


class EventsView(ApiView):
    @openapi("usage_events", summary="A customer's usage of a feature over time",
             input=EventsInput, data=UsageTimelineShape, errors=(404,))
    def post(self, request):
        values = parsed(EventsInput, request)
        return ok(usage_timeline(
            self.scope, values["customer"], values["feature"], values["range"],
            values["groupBy"], clock.now(self.scope),
        ))
