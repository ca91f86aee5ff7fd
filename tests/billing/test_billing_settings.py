"""A merchant's invoice identity and email settings: the API, the console (with previews),
the hosted invoice page and invoice numbers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import AuditEvent, EmailSettings, InvoiceIdentity
from billing.services.audit import SYSTEM
from billing.services.invoice_identity import invoice_identity_update
from cynco.links import LinkTarget, make_token
from cynco.tenancy import Scope
from tests.billing.admin_console import staff_client
from tests.billing.subscribing import customer, invoices, main_catalog, subscribe_paid
from tests.factories import data_of, error_of

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/pay/billing-settings"
# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def png_data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_the_defaults_are_the_merchants_name_every_email_on_and_no_test_emails(api, merchant):
    got = data_of(api.get(SETTINGS))
    assert got["invoice"] == {"legalName": merchant.merchant.name, "address": "", "footer": "",
                              "numberPrefix": "INV", "logoUrl": None}
    assert got["emails"]["sendInTestMode"] is False
    assert set(got["emails"]["kinds"].values()) == {True} and len(got["emails"]["kinds"]) == 7


def test_patch_sets_the_identity_and_the_logo_is_served_by_us(api, client):
    got = data_of(api.patch(SETTINGS, {
        "invoice": {"legalName": "Acme Sdn Bhd", "address": "1 Jalan Ampang\nKuala Lumpur",
                    "footer": "SST No. W10-1808-31000123", "numberPrefix": "ACME",
                    "logo": png_data_url()},
        "emails": {"senderName": "Acme Billing", "replyTo": "billing@acme.test",
                   "kinds": {"trial_ending": False}}}))
    assert got["invoice"]["legalName"] == "Acme Sdn Bhd"
    assert got["emails"]["kinds"]["trial_ending"] is False
    assert got["emails"]["kinds"]["payment_receipt"] is True
    logo = client.get(got["invoice"]["logoUrl"].replace("http://127.0.0.1:8000", ""))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo.content == PNG
    assert data_of(api.patch(SETTINGS, {"invoice": {"logo": None}}))["invoice"]["logoUrl"] is None
    assert client.get(got["invoice"]["logoUrl"].replace("http://127.0.0.1:8000", "")
                      ).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"invoice": {"numberPrefix": "acme!"}}, "numberPrefix"),
    ({"invoice": {"logo": "https://example.com/logo.png"}}, "logo"),
    ({"invoice": {"logo": "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()}},
     "logo"),
    ({"emails": {"replyTo": "not an address"}}, "replyTo"),
    ({"emails": {"kinds": {"newsletter": True}}}, "kinds.newsletter"),
    ({"emails": {"trialEndingDays": 0}}, "emails.trialEndingDays"),
    ({"emails": {"sendInTestMode": "yes"}}, "emails.sendInTestMode"),
])
def test_bad_settings_are_422_with_the_field_and_change_nothing(api, body, field):
    before = data_of(api.get(SETTINGS))
    response = api.patch(SETTINGS, {**body, "invoice": {"legalName": "Half written",
                                                          **body.get("invoice", {})}})
    assert response.status_code == 422, response.content
    assert field in [detail["field"] for detail in error_of(response)["details"]]
    assert data_of(api.get(SETTINGS)) == before


@pytest.mark.django_db(transaction=True)  # subscribing calls the gateway outside a transaction
def test_the_hosted_invoice_page_shows_the_identity_and_numbers_use_the_prefix(
        api, merchant, client):
    main_catalog(api)
    customer(api)
    invoice_identity_update(scope=Scope(merchant.merchant.id, "test"), actor=SYSTEM, changes={
        "legal_name": "Acme Sdn Bhd", "address": "1 Jalan Ampang", "footer": "Thank you!",
        "number_prefix": "ACME", "logo": PNG})
    subscribe_paid(api, "pro")
    [invoice] = invoices(api)
    assert invoice["number"] == "ACME-TEST-000001"
    page = client.get(invoice["hostedUrl"].replace("http://127.0.0.1:8000", "")).content.decode()
    assert "Acme Sdn Bhd" in page and "1 Jalan Ampang" in page and "Thank you!" in page
    identity = InvoiceIdentity.objects.get()
    assert f"/merchant-logos/{merchant.merchant.id}/{identity.logo_digest}" in page


def test_an_operator_previews_every_email_with_the_merchants_identity(operator, merchant):
    invoice_identity_update(scope=Scope(merchant.merchant.id, "live"), actor=SYSTEM,
                            changes={"legal_name": "Acme Sdn Bhd", "footer": "Reg. 12345"})
    EmailSettings.objects.create(merchant=merchant.merchant)
    page = operator.get(f"/admin/billing/emailsettings/{merchant.merchant.id}/change/")
    assert page.status_code == 200
    kinds = ["payment_receipt", "payment_failed", "action_required", "trial_ending",
             "renewal_upcoming", "subscription_canceled", "refund_issued"]
    for kind in kinds:
        preview = f"/admin/billing/emailsettings/{merchant.merchant.id}/preview/{kind}/"
        assert preview in page.content.decode()
        html = operator.get(preview)
        assert html.status_code == 200 and "Acme Sdn Bhd" in html.content.decode()
        text = operator.get(preview + "?format=text").content.decode()
        assert text.startswith("Subject: ") and "Reg. 12345" in text


def test_an_operator_saves_settings_and_uploads_a_logo_in_the_console(operator, merchant):
    merchant_id = merchant.merchant.id
    response = operator.post("/admin/billing/emailsettings/add/", {
        "merchant": merchant_id, "sender_name": "Acme", "reply_to": "help@acme.test",
        "trial_ending_days": 5, "renewal_notice_days": 7,
        "enabled_kinds": ["payment_receipt", "payment_failed"]})
    assert response.status_code == 302, response.content[:2000]
    saved = EmailSettings.objects.get(merchant_id=merchant_id)
    assert saved.sender_name == "Acme" and saved.trial_ending_days == 5
    assert not saved.sends("refund_issued") and saved.sends("payment_failed")
    response = operator.post("/admin/billing/invoiceidentity/add/", {
        "merchant": merchant_id, "legal_name": "Acme Sdn Bhd", "address": "", "footer": "",
        "number_prefix": "ACME", "logo_file": SimpleUploadedFile("logo.png", PNG, "image/png")})
    assert response.status_code == 302, response.content[:2000]
    assert bytes(InvoiceIdentity.objects.get(merchant_id=merchant_id).logo) == PNG
    refused = operator.post(f"/admin/billing/invoiceidentity/{merchant_id}/change/", {
        "legal_name": "Acme", "address": "", "footer": "", "number_prefix": "ACME",
        "logo_file": SimpleUploadedFile("logo.svg", b"<svg/>", "image/svg+xml")})
    assert refused.status_code == 200 and b"PNG, JPEG or GIF" in refused.content


def test_staff_see_and_preview_only_their_merchants_settings(merchant, other_merchant):
    EmailSettings.objects.create(merchant=merchant.merchant)
    EmailSettings.objects.create(merchant=other_merchant.merchant)
    clerk = staff_client(merchant.merchant, models=("emailsettings", "emailmessage"))
    own = f"/admin/billing/emailsettings/{merchant.merchant.id}"
    other = f"/admin/billing/emailsettings/{other_merchant.merchant.id}"
    assert clerk.get(f"{own}/change/").status_code == 200
    assert clerk.get(f"{own}/preview/payment_failed/").status_code == 200
    assert clerk.get(f"{other}/change/").status_code in (302, 404)
    assert clerk.get(f"{other}/preview/payment_failed/").status_code == 404
    assert clerk.get("/admin/billing/emailmessage/").status_code == 200


def test_a_replayed_patch_changes_and_audits_once(api):
    body = {"emails": {"senderName": "Acme"}, "invoice": {"footer": "Thanks"}}
    first = api.patch(SETTINGS, body, headers={"Idempotency-Key": "settings-1"})
    again = api.patch(SETTINGS, body, headers={"Idempotency-Key": "settings-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    events = AuditEvent.objects.filter(event__in=["email_settings.updated",
                                                  "invoice_identity.updated"])
    assert sorted(events.values_list("event", flat=True)) == [
        "email_settings.updated", "invoice_identity.updated"]


def test_an_email_portal_link_opens_a_fresh_portal_session_and_expires_after_7_days(
        api, merchant, client):
    customer(api)
    customer_id = data_of(api.get("/api/v1/pay/customers?id=user_1"))["id"]
    token = make_token(LinkTarget("portal_email", customer_id, merchant.merchant.id, "test"))
    opened = client.get(f"/portal/email/{token}", follow=True)
    assert opened.status_code == 200 and b"Your billing" in opened.content
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8)):
        expired = client.get(f"/portal/email/{token}")
    assert expired.status_code == 410 and b"valid for 7 days" in expired.content
    assert client.get(f"/portal/email/{token[:-2]}xx").status_code == 404
