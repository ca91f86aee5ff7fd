"""Routes of check, track, balance locks and balances, entities, spend caps and usage events."""

from django.urls import path

from billing.api.balances import BalanceCreateView, BalanceUpdateView, EntitiesView
from billing.api.spend_caps import SpendCapsView
from billing.api.usage_events import EventsView
from billing.api.usage import CheckView, FinalizeView, TrackView
from billing.api.usage_batch import TrackBatchView
from billing.api.usage_fast_views import fast_check, fast_track, with_fast_path

urlpatterns = [
    path("check", with_fast_path(CheckView.as_view(), fast_check), name="check"),
    path("track", with_fast_path(TrackView.as_view(), fast_track), name="track"),
    path("track/batch", TrackBatchView.as_view(), name="track-batch"),
    path("balances/finalize", FinalizeView.as_view(), name="balances-finalize"),
    path("spend-caps", SpendCapsView.as_view(), name="spend-caps"),
    path("balances/create", BalanceCreateView.as_view(), name="balances-create"),
    path("balances/update", BalanceUpdateView.as_view(), name="balances-update"),
    path("entities", EntitiesView.as_view(), name="entities"),
    path("events", EventsView.as_view(), name="events"),
]
