"""The demo catalog that `make run` shows, and the admin pages that show it."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing.models import Customer, Product
from cynco.management.commands import seed_demo
from cynco.models import Merchant, MerchantStaff
from tests.billing.catalog import CUSTOMERS, PLANS, define, PRO
from tests.factories import Api, data_of, make_merchant

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_documented_catalog_once(tmp_path, monkeypatch):
    monkeypatch.setattr(seed_demo, "KEYS_FILE", tmp_path / "demo-keys.json")
    from django.core.management import call_command

    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    assert "Demo catalog: pro (Pro) defined, version 1" in first.getvalue()
    assert "Demo catalog: pro (Pro) already defined, version 1" in second.getvalue()
    keys = json.loads((tmp_path / "demo-keys.json").read_text())
    api = Api(keys["secret"])
    plans = {p["slug"]: p for p in data_of(api.get(PLANS))}
    assert list(plans) == ["free", "pro", "enterprise"]
    assert plans["free"]["isDefault"] and plans["free"]["features"][0]["allowance"] == 100
    assert plans["pro"]["prices"][0]["amount"] == 2000
    assert [(f["slug"], f["allowance"]) for f in plans["pro"]["features"]] == [
        ("messages", 1000), ("premium_support", None)]
    assert plans["enterprise"]["prices"][0]["amount"] == 5000
    assert plans["enterprise"]["features"][0]["unlimited"] is True
    state = data_of(api.post(CUSTOMERS, {"customerId": "demo_user"}), 201)
    assert state["balances"]["messages"]["granted"] == 100
    merchant = Merchant.objects.get(pk=keys["merchantId"])
    assert Product.objects.filter(merchant=merchant, environment="live").count() == 0


@pytest.fixture
def staff_client(merchant):
    user = get_user_model().objects.create_user("staff", password="pw", is_staff=True,
                                                is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_shows_products_versions_customers_and_history(api, staff_client):
    product = define(api, PRO)
    data_of(api.post(CUSTOMERS, {"customerId": "user_1", "email": "siti@example.com"}), 201)
    customer = Customer.objects.get()
    pages = [
        "/admin/billing/product/", f"/admin/billing/product/{product['id']}/change/",
        f"/admin/billing/productversion/{product['versionId']}/change/",
        "/admin/billing/feature/", "/admin/billing/subscription/",
        f"/admin/billing/product/{product['id']}/history/",
        f"/admin/billing/customer/{customer.id}/change/",
        f"/admin/billing/customer/{customer.id}/history/",
    ]
    for page in pages:
        assert staff_client.get(page).status_code == 200, page
    found = staff_client.get("/admin/billing/customer/?q=siti@example")
    assert b"user_1" in found.content
    assert b"2000" in staff_client.get(pages[1]).content


def test_merchant_staff_see_only_their_merchant_in_the_admin(api, merchant):
    define(api, PRO)
    other = make_merchant("Someone else")
    define(Api(other.secret_test), {**PRO, "name": "Their Pro"})
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.filter(codename="view_product"))
    MerchantStaff.objects.create(user=user, merchant=merchant.merchant)
    client = Client()
    client.force_login(user)
    listing = client.get("/admin/billing/product/").content
    assert b"Their Pro" not in listing and b">Pro<" in listing
