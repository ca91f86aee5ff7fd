"""Platform pieces: create_merchant, the clock, the customer lock, health, schema, admin."""

import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from cynco import clock
from cynco.errors import ConcurrentRequest
from cynco.locks import customer_lock_key, lock_customer
from cynco.models import ApiKey, MerchantStaff
from cynco.tenancy import Scope
from tests.factories import Api, data_of, make_merchant


@pytest.mark.django_db
def test_create_merchant_prints_four_working_keys_once():
    out = StringIO()
    call_command("create_merchant", "Kedai Kopi", stdout=out, stderr=StringIO())
    printed = json.loads(out.getvalue())
    assert printed["name"] == "Kedai Kopi"
    expected = {"secretKeyLive": "cp_sk_live_", "publishableKeyLive": "cp_pk_live_",
                "secretKeyTest": "cp_sk_test_", "publishableKeyTest": "cp_pk_test_"}
    for field, prefix in expected.items():
        assert printed[field].startswith(prefix)
    listed = data_of(Api(printed["secretKeyTest"]).get("/api/v1/pay/api-keys"))
    assert {key["type"] for key in listed} == {"secret", "publishable"}
    assert ApiKey.objects.filter(merchant_id=printed["merchantId"]).count() == 4


@pytest.mark.django_db
def test_the_test_clock_moves_forward_and_live_stays_on_the_wall_clock(merchant):
    test = Scope(merchant.merchant.id, "test")
    live = Scope(merchant.merchant.id, "live")
    before = clock.now(test)
    moved = clock.advance(scope=test, seconds=86400)
    assert (moved - before).total_seconds() >= 86400
    assert abs((clock.now(live) - clock.wall_now()).total_seconds()) < 5
    with pytest.raises(ValueError):
        clock.advance(scope=live, seconds=10)
    with pytest.raises(ValueError):
        clock.advance(scope=test, seconds=0)


@pytest.mark.django_db
def test_the_test_clock_endpoint_needs_a_test_key(merchant, api, live_api):
    now = data_of(api.get("/api/v1/pay/test/clock"))["now"]
    assert now.endswith("Z")
    assert live_api.get("/api/v1/pay/test/clock").status_code == 403


def test_lock_keys_are_stable_and_distinct():
    assert customer_lock_key("cus_a") == customer_lock_key("cus_a")
    assert customer_lock_key("cus_a") != customer_lock_key("cus_b")


@pytest.mark.django_db(transaction=True)
def test_a_customer_lock_held_too_long_answers_concurrent_request(settings):
    settings.CUSTOMER_LOCK_WAIT_SECONDS = 0.2
    held, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                lock_customer("cus_busy")
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(ConcurrentRequest), transaction.atomic():
            lock_customer("cus_busy")
        with transaction.atomic():
            lock_customer("cus_other")  # other customers are not held up
    finally:
        release.set()
        thread.join(10)
    with transaction.atomic():
        lock_customer("cus_busy")  # free again once the holder committed


@pytest.mark.django_db(transaction=True)
def test_lock_customer_outside_a_transaction_is_a_programming_error():
    with pytest.raises(RuntimeError):
        lock_customer("cus_x")


@pytest.mark.django_db
def test_healthz_reports_the_database(client, settings):
    settings.REDIS_URL = ""
    body = client.get("/healthz").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "redis": "not_configured"}}


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_redis_as_unhealthy(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


@pytest.mark.django_db
def test_the_openapi_document_is_valid():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert "/api/v1/pay/api-keys" in schema["paths"]


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_admin_staff_see_only_their_merchants_keys(client, django_user_model):
    mine, theirs = make_merchant("Mine"), make_merchant("Theirs")
    user = django_user_model.objects.create_user("staff", password="pw-123456789", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__endswith="apikey"))
    MerchantStaff.objects.create(user=user, merchant=mine.merchant)
    client.force_login(user)
    page = client.get("/admin/cynco/apikey/").content.decode()
    for key in ApiKey.objects.filter(merchant=mine.merchant):
        assert key.key_prefix in page
    for key in ApiKey.objects.filter(merchant=theirs.merchant):
        assert key.key_prefix not in page
    other_key = ApiKey.objects.filter(merchant=theirs.merchant).first()
    assert client.get(f"/admin/cynco/apikey/{other_key.pk}/change/").status_code in (302, 404)


@pytest.mark.django_db
def test_admin_shows_a_new_keys_raw_value_once(admin_client, merchant):
    response = admin_client.post(
        "/admin/cynco/apikey/add/",
        {"merchant": merchant.merchant.id, "environment": "test", "type": "secret",
         "name": "from admin", "scopes": "[]"},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="from admin")
    text = response.content.decode()
    raw = text[text.index("cp_sk_test_"):].split("<")[0].split()[0]
    assert raw.startswith(key.key_prefix)
    assert Api(raw).get("/api/v1/pay/api-keys").status_code == 200
    assert raw not in admin_client.get(f"/admin/cynco/apikey/{key.pk}/change/").content.decode()
