"""Routes of referral rewards (one path; the view dispatches on `action` and `customer`)."""

from django.urls import path

from billing.api.rewards import RewardsView

urlpatterns = [
    path("rewards", RewardsView.as_view(), name="rewards"),
]
