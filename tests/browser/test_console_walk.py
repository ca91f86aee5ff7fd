"""The operator console and the portal walked in Debian's Chromium as a person would, with a
screenshot of every page under var/screenshots/ for a reviewer: a staff user of merchant A logs
in, opens the dashboard, lists and a customer's one-screen page, previews and confirms an
action; cannot reach any of merchant B's objects by URL, list filter, autocomplete or report
parameter; the journal entry list fits 1280 px. The portal and the checkout page are checked
with axe-core (0 serious violations), on a phone-sized screen too."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from billing.models import Customer
from cynco.models import MerchantStaff
from tests.billing.subscribing import current, customer, main_catalog, subscribe, subscribe_paid
from tests.browser.axe import serious_violations
from tests.browser.conftest import CANCEL_URL, SUCCESS_URL
from tests.factories import Api, data_of, make_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "pw-walk-123456789"
THEIRS = "zebra-customer-7"
PHONE = {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def business(api, merchant, site):
    """Merchant A: jane pays Pro by card. Merchant B (Zebra): a customer of its own."""
    main_catalog(api)
    customer(api, "jane")
    subscribe_paid(api, "pro", "jane")
    other = make_merchant("Zebra Holdings Sdn Bhd")
    theirs = Api(other.secret_test)
    main_catalog(theirs)
    customer(theirs, THEIRS)
    subscribe_paid(theirs, "pro", THEIRS)
    return merchant.merchant, other.merchant


@pytest.fixture
def clerk(business):
    """A staff user of merchant A with every permission staff can hold."""
    own, _ = business
    user = get_user_model().objects.create_user("clerk-a", password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.all())
    MerchantStaff.objects.create(user=user, merchant=own)
    return user


def log_in(page, site) -> None:
    page.goto(f"{site}/admin/login/")
    page.get_by_label("Username").fill("clerk-a")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()


def test_a_staff_user_walks_the_console_and_confirms_an_action(api, site, business, clerk,
                                                               page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site)
    shot(page, "site-root-visitor")
    expect(page.get_by_role("heading", name="Cynco Billing")).to_be_visible()
    log_in(page, site)
    shot(page, "console-index")
    page.goto(f"{site}/")  # staff land on the console
    expect(page).to_have_url(f"{site}/admin/")

    page.get_by_role("link", name="Billing dashboard (MRR, revenue, churn)").click()
    expect(page.get_by_text("Test environment: test data, no real money moves")).to_be_visible()
    expect(page.locator(".kpi", has_text="MRR")).to_contain_text("MYR 20.00")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-mrr')")
    shot(page, "console-dashboard")

    for name, path in [("customers", "/admin/billing/customer/"),
                       ("invoices", "/admin/billing/invoice/"),
                       ("subscriptions", "/admin/billing/subscription/"),
                       ("payments", "/admin/gateways/paymentattempt/"),
                       ("trial-balance", "/admin/ledger/account/trial-balance/"),
                       ("journal-entries", "/admin/ledger/journalentry/")]:
        page.goto(f"{site}{path}")
        assert "Zebra" not in page.content() and THEIRS not in page.content()
        shot(page, f"console-{name}")
    # Every list fits a 1280 px window: the journal entries' memo wraps instead of overflowing.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, width

    jane = Customer.objects.get(external_id="jane")
    page.goto(f"{site}/admin/billing/customer/{jane.pk}/change/")
    for section in ("Subscriptions", "Balances", "Invoices", "Payments and refunds",
                    "Ledger entries", "Audit trail", "Webhook deliveries"):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    shot(page, "console-customer-page")
    page.get_by_role("link", name="Cancel at period end").click()
    page.get_by_label("Subscription").select_option(label="Pro (Active)")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    shot(page, "console-action-preview")
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is False
    page.get_by_role("button", name="Confirm: cancel at period end").click()
    expect(page.locator(".messagelist")).to_contain_text("Pro: canceled.")
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is True
    shot(page, "console-customer-after-action")


def test_staff_of_a_cannot_open_bs_objects_by_url_filter_autocomplete_or_report(
        site, business, clerk, page):
    own, other = business
    theirs = Customer.objects.get(merchant=other, external_id=THEIRS)
    log_in(page, site)
    page.goto(f"{site}/admin/billing/customer/{theirs.pk}/change/")
    assert THEIRS not in page.content()  # Django's "doesn't exist" notice on the index
    shot(page, "tenancy-other-customer-url")
    for path in (f"/admin/billing/customer/{theirs.pk}/history/",
                 f"/admin/billing/customer/{theirs.pk}/actions/portal/"):
        response = page.goto(f"{site}{path}")
        assert response.status == 404 or THEIRS not in page.content(), path
    page.goto(f"{site}/admin/billing/invoice/?customer__id__exact={theirs.pk}")
    assert THEIRS not in page.content()
    page.goto(f"{site}/admin/billing/customer/?q={THEIRS}")
    expect(page.get_by_text("0 customers")).to_be_visible()
    shot(page, "tenancy-other-customer-search")
    answer = page.goto(f"{site}/admin/autocomplete/?app_label=billing&model_name=invoice"
                       f"&field_name=customer&term=zebra")
    assert answer.status in (403, 404) or THEIRS not in page.content()
    page.goto(f"{site}/admin/billing-dashboard/?merchant={other.pk}&environment=test")
    assert "Zebra" not in page.content()
    expect(page.locator("select[name=merchant] option:checked")).to_have_text(own.name)
    page.goto(f"{site}/admin/ledger/account/trial-balance/?merchant={other.pk}")
    assert "Zebra" not in page.content()
    shot(page, "tenancy-other-merchant-report")


def test_the_portal_and_checkout_pass_axe_on_desktop_and_phone(api, site, business, page):
    url = data_of(api.get("/api/v1/pay/portal?customer=jane"))["url"]
    for size, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(url)
        expect(page.get_by_role("heading", name="Your billing")).to_be_visible()
        assert serious_violations(page) == [], size
        shot(page, f"portal-{size}")
        page.goto(f"{url}/plans")
        assert serious_violations(page) == [], size
        shot(page, f"portal-plans-{size}")
        page.goto(f"{url}/plans/enterprise")
        assert serious_violations(page) == [], size
        shot(page, f"portal-plan-preview-{size}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], (size, width)
    hosted = data_of(api.get("/api/v1/pay/invoices?customer=jane"))[0]["hostedUrl"]
    page.goto(hosted)
    assert serious_violations(page) == []
    shot(page, "invoice-page")
    customer(api, "newbie")
    result = subscribe(api, "pro", "newbie", successUrl=SUCCESS_URL, cancelUrl=CANCEL_URL)
    for size, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(result["checkoutUrl"])
        assert serious_violations(page) == [], size
        shot(page, f"checkout-{size}")


def test_jane_changes_plan_in_the_portal_after_seeing_the_preview(api, site, business, page):
    page.set_viewport_size(PHONE)
    page.goto(data_of(api.get("/api/v1/pay/portal?customer=jane"))["url"])
    usage = page.locator("section", has=page.get_by_role("heading", name="Usage this period"))
    expect(usage.get_by_role("progressbar", name="Messages used")).to_be_visible()
    expect(usage).to_contain_text("Included: Premium Support")
    page.get_by_role("link", name="Change plan").click()
    page.get_by_role("link", name="Choose Enterprise").click()
    expect(page.get_by_role("heading", name="Move from Pro to Enterprise")).to_be_visible()
    expect(page.get_by_text("Charged now")).to_be_visible()
    shot(page, "portal-upgrade-preview-phone")
    page.get_by_role("button", name="Confirm: move to Enterprise").click()
    expect(page.get_by_role("status")).to_have_text("Your plan is now Enterprise.")
    assert "enterprise" in current(api, "jane")
    shot(page, "portal-after-upgrade-phone")
