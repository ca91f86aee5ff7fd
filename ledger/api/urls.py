"""Routes of /api/v1/ledger/ (secret keys only)."""

urlpatterns: list = []
