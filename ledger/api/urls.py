"""Routes of /api/v1/ledger/ (secret keys only; paths without a trailing slash)."""

from ledger.api import books_urls, reports_urls

urlpatterns = [*books_urls.urlpatterns, *reports_urls.urlpatterns]
