"""Test-mode helpers (API.md, Test helpers): complete a sandbox checkout as a customer would,
and move the test clock forward running every job that falls due. Live keys get 403."""

from __future__ import annotations

from datetime import datetime

from rest_framework import serializers

from billing.api.shapes.subscriptions import ClockAdvanceShape, CheckoutCompletionShape
from billing.api.subscription_input import StrictDateTimeField
from billing.services.audit import Actor
from billing.services.checkouts import checkout_find, checkout_pay_with_card
from billing.services.subscriptions import summary_data
from billing.services.test_clock import test_clock_advance
from cynco import clock
from cynco.api.clock import require_test_environment
from cynco.api.schema import openapi
from cynco.api.views import ApiView
from cynco.errors import ValidationFailed
from cynco.fields import StrictCharField, StrictIntegerField
from cynco.responses import ok

MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600


class CompleteInput(serializers.Serializer):
    card = StrictCharField(max_length=30)


class AdvanceInput(serializers.Serializer):
    to = StrictDateTimeField(required=False)
    seconds = StrictIntegerField(min_value=1, max_value=MAX_ADVANCE_SECONDS, required=False)
    body_rules = ({"oneOf": [{"required": ["to"]}, {"required": ["seconds"]}]},)


class CheckoutCompleteView(ApiView):
    idempotency_atomic = False  # pays through the gateway

    @openapi("test_checkout_complete", summary="Pay a sandbox checkout with a test card",
             description="4242424242424242 succeeds; 4000000000000002 is declined; "
                         "4000002760003184 needs 3-D Secure; 4000000000000341 saves but every "
                         "later charge is declined. Test-mode keys only (403 with a live key).",
             input=CompleteInput, data=CheckoutCompletionShape, errors=(404,))
    def post(self, request, checkout_id):
        require_test_environment(self)
        values = CompleteInput(data=request.data)
        values.is_valid(raise_exception=True)
        checkout = checkout_find(self.scope, checkout_id)
        result = checkout_pay_with_card(scope=self.scope, checkout=checkout,
                                        card_number=values.validated_data["card"],
                                        actor=Actor.api(request.auth.id))
        data = {"checkoutId": checkout.id, "status": result.status}
        subscription = result.checkout.subscriptions.select_related("product").first()
        if subscription is not None:
            data["subscription"] = summary_data(subscription)
        if result.status != "completed":
            code = "3ds_required" if result.status == "requires_action" else "payment_failed"
            data["requiredAction"] = {"code": code, "reason": result.failure_message}
            if result.action_url:
                data["url"] = result.action_url
        return ok(data)


class ClockAdvanceView(ApiView):
    idempotency_atomic = False  # renewals charge cards

    @openapi("test_clock_advance", summary="Move the test clock forward and run what falls due",
             description="Give exactly one of `to` and `seconds`. Renewals, invoices, trial "
                         "ends, dunning, lock releases and checkout expiries that fall due run "
                         "before the answer. Test-mode keys only (403 with a live key).",
             input=AdvanceInput, data=ClockAdvanceShape)
    def post(self, request):
        require_test_environment(self)
        values = AdvanceInput(data=request.data)
        values.is_valid(raise_exception=True)
        data = values.validated_data
        if ("to" in data) == ("seconds" in data):
            raise ValidationFailed("Give exactly one of `to` and `seconds`", details=[
                {"field": "body", "message": "Give exactly one of `to` and `seconds`."}])
        seconds = data.get("seconds") or _seconds_until(self.scope, data["to"])
        now, ran = test_clock_advance(scope=self.scope, seconds=seconds)
        return ok({"now": now, "ran": ran})


def _seconds_until(scope, to: datetime) -> int:
    seconds = int((to - clock.now(scope)).total_seconds())
    if seconds < 1:
        raise ValidationFailed.field("to", "Must be later than the test clock's now.")
    if seconds > MAX_ADVANCE_SECONDS:
        raise ValidationFailed.field("to", "At most ten years ahead.")
    return seconds
