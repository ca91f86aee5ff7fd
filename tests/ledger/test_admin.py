"""The ledger in the admin: read-only books, the trial balance page, scoped to staff's merchant."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from cynco import clock
from cynco.models import MerchantStaff
from cynco.tenancy import Scope
from ledger import rules
from ledger.models import JournalEntry
from tests.factories import make_merchant

pytestmark = pytest.mark.django_db

TRIAL_BALANCE = "/admin/ledger/account/trial-balance/"


@pytest.fixture
def opened(books):
    """The day the books were opened (entries cannot be dated before it)."""
    return clock.now(books).date()


@pytest.fixture
def posted(books, opened):
    entry = rules.invoice_finalized(scope=books, invoice_id="pinv_admin", currency="MYR",
                                    subscription=2000, date=opened)
    rules.payment_captured(scope=books, payment_id="pay_admin", gateway="chip", amount=1500,
                           currency="MYR", invoice_id="pinv_admin",
                           date=opened + timedelta(days=1))
    return entry


def test_an_operator_reads_an_entry_with_its_lines_but_cannot_change_it(admin_client, posted):
    page = admin_client.get(f"/admin/ledger/journalentry/{posted.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "pinv_admin" in html and "1200 Accounts receivable" in html and "2000" in html
    assert 'name="_save"' not in html
    assert admin_client.get("/admin/ledger/journalentry/add/").status_code == 403
    deleted = admin_client.post(f"/admin/ledger/journalentry/{posted.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert JournalEntry.objects.filter(pk=posted.pk).exists()
    chart = admin_client.get("/admin/ledger/account/?environment__exact=test").content.decode()
    assert "Accounts receivable" in chart and "Trial balance" in chart


def test_the_trial_balance_page_shows_a_merchant_environment_as_of_a_date(
    admin_client, merchant, posted, opened
):
    url = f"{TRIAL_BALANCE}?merchant={merchant.merchant.id}&environment=test&asOf={opened}"
    html = admin_client.get(url).content.decode()
    assert f"as of {opened}" in html
    assert "4001" in html and "1100-chip" not in html
    later = admin_client.get(
        f"{TRIAL_BALANCE}?merchant={merchant.merchant.id}&environment=test"
        f"&asOf={opened + timedelta(days=30)}"
    ).content.decode()
    assert "1100-chip" in later and '<th colspan="2">Total</th>' in later and "MYR " in later
    garbage = admin_client.get(
        f"{TRIAL_BALANCE}?merchant={merchant.merchant.id}&environment=test&asOf=soon"
    )
    assert garbage.status_code == 200 and "asOf must be a date" in garbage.content.decode()


def test_staff_see_only_their_merchants_books(client, django_user_model, books, posted):
    theirs = make_merchant("Theirs")
    their_entry = rules.invoice_finalized(
        scope=Scope(theirs.merchant.id, "test"), invoice_id="pinv_theirs", currency="MYR",
        subscription=10,
    )
    user = django_user_model.objects.create_user("clerk", password="pw-123456789", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ledger",
                                                         codename__startswith="view_"))
    MerchantStaff.objects.create(user=user, merchant_id=books.merchant_id)
    client.force_login(user)

    listing = client.get("/admin/ledger/journalentry/").content.decode()
    assert "pinv_admin" in listing and "pinv_theirs" not in listing
    assert client.get(f"/admin/ledger/journalentry/{their_entry.pk}/change/").status_code in (
        302, 404,
    )
    page = client.get(f"{TRIAL_BALANCE}?merchant={theirs.merchant.id}&environment=test")
    assert theirs.merchant.name not in page.content.decode()
    assert client.get("/admin/ledger/reconciliationrun/").status_code == 403
