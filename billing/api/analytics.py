"""`GET /analytics` (headline figures) and `GET /analytics?view=timeline&months=N`."""

from __future__ import annotations

from billing.api.shapes.account import AnalyticsShape, RevenueMonthShape
from billing.selectors.analytics import analytics_summary, revenue_timeline
from cynco import clock
from cynco.api.schema import ListOf, openapi, query_param
from cynco.api.views import ApiView
from cynco.currencies import ISO_4217_MINOR_UNITS, is_iso_currency
from cynco.errors import ValidationFailed
from cynco.models import Merchant
from cynco.responses import ok

MAX_MONTHS = 36


def _months(raw: str | None) -> int:
    if raw is None or raw == "":
        return 12
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_MONTHS:
        raise ValidationFailed.field("months", f"Must be an integer from 1 to {MAX_MONTHS}.")
    return int(raw)


class AnalyticsView(ApiView):
    @openapi("analytics_get", summary="Headline figures, or revenue month by month",
             query=[query_param("view", "summary (default) or timeline.",
                                enum=["summary", "timeline"]),
                    query_param("months", f"Timeline months, 1-{MAX_MONTHS} (default 12).",
                                minimum=1, maximum=MAX_MONTHS),
                    query_param("currency", "ISO 4217 code (default: the merchant's).",
                                enum=sorted(ISO_4217_MINOR_UNITS))],
             data=(AnalyticsShape, ListOf(RevenueMonthShape)))
    def get(self, request):
        params = request.query_params
        view = params.get("view", "summary")
        if view not in ("summary", "timeline"):
            raise ValidationFailed.field("view", "Must be 'summary' or 'timeline'.")
        currency = params.get("currency") or (
            Merchant.objects.values_list("default_currency", flat=True)
            .get(pk=self.scope.merchant_id)
        )
        if not is_iso_currency(currency):
            raise ValidationFailed.field("currency", "Must be an ISO 4217 code such as MYR.")
        at = clock.now(self.scope)
        months = _months(params.get("months"))  # checked whichever the view
        if view == "timeline":
            return ok(revenue_timeline(scope=self.scope, currency=currency, at=at, months=months))
        return ok(analytics_summary(scope=self.scope, currency=currency, at=at))
