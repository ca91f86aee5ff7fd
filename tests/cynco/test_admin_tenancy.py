"""Staff of one merchant see nothing of another's in the console: every admin URL pattern of
every registered model, walked with the other merchant's ids (change, delete, history, history
detail and revert), every list and add page, and the report pages' `?merchant=` parameter."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, reverse

from billing.admin.customer_actions import ACTIONS
from billing.models import Customer
from cynco.models import Merchant, MerchantStaff
from tests.billing.subscribing import CANCEL, customer, main_catalog, subscribe_paid
from tests.factories import Api, data_of, make_merchant

OTHER_NAME = "Zebra Holdings Sdn Bhd"
OTHER_CUSTOMER = "zebra-customer-7"
OTHER_EMAIL = "zebra@zebra.example"
MARKERS = (OTHER_NAME, OTHER_CUSTOMER, OTHER_EMAIL)


def staff_of(merchant) -> Client:
    """A staff user of `merchant` holding every permission a non-superuser can have."""
    user = get_user_model().objects.create_user("clerk-a", password="pw-123456789", is_staff=True)
    user.user_permissions.add(*Permission.objects.all())
    MerchantStaff.objects.create(user=user, merchant=merchant)
    client = Client()
    client.force_login(user)
    return client


def business_of_other_merchant() -> Merchant:
    """Merchant B with a customer who subscribed, paid, changed their details and canceled now
    (with a refund): rows and history rows in most models."""
    other = make_merchant(OTHER_NAME)
    api = Api(other.secret_test)
    main_catalog(api)
    customer(api, OTHER_CUSTOMER)
    data_of(api.call("PUT", "/api/v1/pay/customers",
                     {"customerId": OTHER_CUSTOMER, "email": OTHER_EMAIL, "name": "Zed"}))
    subscribe_paid(api, "pro", OTHER_CUSTOMER)
    data_of(api.post(CANCEL, {"customer": OTHER_CUSTOMER, "immediate": True}))
    data_of(api.post("/api/v1/pay/webhooks", {"url": "https://hooks.zebra.example/in"}), 201)
    return other.merchant


def rows_of(model, merchant: Merchant) -> list:
    """`model`'s rows that belong to `merchant` (the merchant itself for Merchant)."""
    if model is Merchant:
        return [merchant]
    names = {field.name for field in model._meta.get_fields()}
    if "merchant" not in names:
        return []
    return list(model._default_manager.filter(merchant=merchant))


def object_urls(model_admin, row) -> list[str]:
    """Every URL of `model_admin` that names one object, filled in with `row` (and, for history
    detail pages, each of its history records)."""
    versions = []
    if hasattr(type(row), "history"):
        pk_name = type(row)._meta.pk.attname
        versions = list(type(row).history.filter(**{pk_name: row.pk})
                        .values_list("history_id", flat=True))
    urls = []
    for pattern in model_admin.get_urls():
        converters = set(getattr(pattern.pattern, "converters", {}))
        if "object_id" not in converters or not pattern.name:
            continue
        fills = [{"object_id": row.pk}]
        if "action" in converters:  # the customer page's actions, every one of them
            fills = [{"object_id": row.pk, "action": name} for name in ACTIONS]
        if "version_id" in converters:
            fills = [{"object_id": row.pk, "version_id": version} for version in versions]
        for kwargs in fills:
            try:
                urls.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
            except NoReverseMatch:
                pytest.fail(f"cannot fill {pattern.name} with {kwargs}")
    return urls


def assert_nothing_of_other(response, url: str) -> None:
    assert response.status_code in (302, 403, 404), (url, response.status_code)
    if response.status_code == 302:  # Django's "doesn't exist" redirect goes to the index
        assert response["Location"].rstrip("/").endswith("/admin"), (url, response["Location"])
    body = response.content.decode(errors="replace")
    for marker in MARKERS:
        assert marker not in body, (url, marker)


@pytest.mark.django_db(transaction=True)
def test_staff_of_one_merchant_open_none_of_anothers_objects_by_any_admin_url():
    """Walks every registered model's object URLs with the other merchant's ids. Before the fix,
    /admin/billing/customer/<B's id>/history/ answered 200 with B's 7 history rows."""
    own = make_merchant("Own merchant")
    other = business_of_other_merchant()
    client = staff_of(own.merchant)
    walked = 0
    for model, model_admin in admin.site._registry.items():
        for row in rows_of(model, other):
            for url in object_urls(model_admin, row):
                assert_nothing_of_other(client.get(url), url)
                walked += 1
                if "/actions/" in url:  # confirming an action is refused as well
                    assert_nothing_of_other(client.post(url, {}), url)
                if "/history/" in url and not url.rstrip("/").endswith("/history"):
                    # a revert through the history detail page is refused as well
                    assert_nothing_of_other(client.post(url, {}), url)
    assert walked > 50, walked  # the scenario reached most models


@pytest.mark.django_db(transaction=True)
def test_history_of_another_merchants_customer_is_not_found_while_ones_own_is_shown():
    own = make_merchant("Own merchant")
    other = business_of_other_merchant()
    api = Api(own.secret_test)
    mine = customer(api, "own-customer")
    data_of(api.call("PUT", "/api/v1/pay/customers", {"customerId": "own-customer", "name": "Mo"}))
    client = staff_of(own.merchant)

    theirs = Customer.objects.get(merchant=other, external_id=OTHER_CUSTOMER)
    refused = client.get(f"/admin/billing/customer/{theirs.pk}/history/")
    assert refused.status_code == 404
    assert OTHER_CUSTOMER not in refused.content.decode()

    shown = client.get(f"/admin/billing/customer/{mine['id']}/history/")
    assert shown.status_code == 200
    assert "own-customer" in shown.content.decode()


@pytest.mark.django_db(transaction=True)
def test_lists_add_forms_and_reports_show_nothing_of_another_merchant():
    """Changelists, add forms (foreign-key choices) and report pages asked for the other
    merchant with `?merchant=` show only the staff user's own merchant."""
    own = make_merchant("Own merchant")
    other = business_of_other_merchant()
    client = staff_of(own.merchant)
    pages = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        for name in ("%s_%s_changelist", "%s_%s_add"):
            try:
                pages.append(reverse(f"admin:{name % info}"))
            except NoReverseMatch:
                pass
    pages += [
        reverse("admin:ledger_trial_balance") + f"?merchant={other.pk}&environment=test",
        reverse("billing-dashboard") + f"?merchant={other.pk}&environment=test",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 302, 403), (page, response.status_code)
        body = response.content.decode(errors="replace")
        for marker in MARKERS:
            assert marker not in body, (page, marker)
