from django.urls import path

from ledger.api import books

urlpatterns = [
    path("accounts", books.AccountsView.as_view(), name="ledger-accounts"),
    path("journal-entries", books.JournalEntriesView.as_view(), name="ledger-journal-entries"),
    path(
        "journal-entries/<str:entry_id>",
        books.JournalEntryView.as_view(),
        name="ledger-journal-entry",
    ),
]
