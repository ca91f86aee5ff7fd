"""Billing emails through a real SMTP server (aiosmtpd on a free local port): what customers
receive, and when they receive nothing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from billing.models import EmailAttempt, EmailMessage, Invoice, Refund, Subscription
from billing.services.audit import SYSTEM
from billing.services.email_delivery import emails_send_due
from billing.services.email_settings import email_settings_update
from cynco.tenancy import Scope
from cynco.money import format_money
from tests.billing.catalog import CUSTOMERS, PRO, define, monthly
from tests.billing.smtp_server import mail  # noqa: F401 - the SMTP server fixture
from tests.billing.subscribing import (
    CANCEL, DAY, LATER_DECLINED_CARD, THREE_DS_CARD, advance, current, main_catalog, now,
    pay_checkout, subscribe, subscribe_paid,
)
from tests.factories import data_of

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER_EMAIL = "aisha@example.com"


def scope_of(merchant) -> Scope:
    return Scope(merchant.merchant.id, "test")


def shop_with_emails(api, merchant, **changes):
    main_catalog(api)
    data_of(api.post(CUSTOMERS, {"customerId": "user_1", "email": CUSTOMER_EMAIL,
                                 "name": "Aisha"}), 201)
    email_settings_update(scope=scope_of(merchant), actor=SYSTEM,
                          changes={"send_in_test_mode": True, **changes})


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_a_paid_checkout_sends_one_receipt_with_the_invoice_link(api, merchant, mail, client):
    shop_with_emails(api, merchant, sender_name="Acme Billing", reply_to="help@acme.test")
    subscribe_paid(api, "pro")
    [receipt] = mail.to(CUSTOMER_EMAIL)
    assert receipt.subject == "[TEST] Receipt for your payment of MYR 20.00"
    assert receipt.message["From"] == "Acme Billing <billing@cynco.test>"
    assert receipt.message["Reply-To"] == "help@acme.test"
    assert receipt.message["X-Cynco-Test"] == "1"
    invoice = Invoice.objects.get(customer__external_id="user_1")
    assert f"invoice {invoice.number}" in receipt.text
    [link] = [url for url in links_in(receipt.text) if "/invoices/" in url]
    page = client.get(link.replace("http://127.0.0.1:8000", ""))
    assert page.status_code == 200 and invoice.number in page.content.decode()
    assert link in receipt.html
    assert EmailMessage.objects.get().status == "sent"


def test_nothing_is_sent_in_test_mode_unless_the_merchant_asked(api, merchant, mail):
    shop_with_emails(api, merchant, send_in_test_mode=False)
    subscribe_paid(api, "pro")
    assert mail.received == [] and not EmailMessage.objects.exists()


def test_nothing_is_sent_for_a_kind_the_merchant_turned_off(api, merchant, mail):
    shop_with_emails(api, merchant, kinds={"payment_receipt": False})
    subscribe_paid(api, "pro")
    assert mail.received == [] and not EmailMessage.objects.exists()


def test_a_customer_whose_card_fails_gets_one_email_fixes_the_card_in_the_portal_and_the_retry_succeeds(
        api, merchant, mail, client):
    shop_with_emails(api, merchant)
    subscribe_paid(api, "pro", card=LATER_DECLINED_CARD)
    pro = Subscription.objects.get(product__slug="pro")
    until_end = (pro.current_period_end - now(api)).total_seconds()
    assert advance(api, int(until_end) + 60)["ran"]["failedCharges"] == 1
    [failed] = [m for m in mail.to(CUSTOMER_EMAIL) if "failed" in m.subject]
    assert failed.subject == "[TEST] Your payment of MYR 20.00 failed"
    pro.refresh_from_db()
    assert f"We will try again on {pro.next_retry_at:%-d %b %Y}" in failed.text
    [portal_link] = [url for url in links_in(failed.text) if "/portal/email/" in url]
    opened = client.get(portal_link.replace("http://127.0.0.1:8000", ""), follow=True)
    assert opened.status_code == 200 and "Update card" in opened.content.decode()
    portal_path = opened.redirect_chain[-1][0]
    to_card_page = client.post(f"{portal_path}/card")
    assert to_card_page.status_code == 302
    card_page = to_card_page["Location"].replace("http://127.0.0.1:8000", "")
    back = client.post(card_page, {"card": "4242424242424242"})
    assert back.status_code == 302 and back["Location"].endswith(portal_path)
    ran = advance(api, DAY + 60)["ran"]
    assert ran["dunningSteps"] == 1 and ran["failedCharges"] == 0
    assert current(api)["pro"]["status"] == "active"
    renewal = Invoice.objects.get(subscription=pro, reason="subscription_cycle")
    assert renewal.status == "paid"
    subjects = [m.subject for m in mail.to(CUSTOMER_EMAIL)]
    assert subjects.count("[TEST] Your payment of MYR 20.00 failed") == 1
    assert subjects.count("[TEST] Receipt for your payment of MYR 20.00") == 2


def test_a_bounce_is_recorded_not_retried_and_shown_in_the_console(api, merchant, mail,
                                                                   operator):
    main_catalog(api)
    data_of(api.post(CUSTOMERS, {"customerId": "user_1", "email": "gone@bounce.test"}), 201)
    email_settings_update(scope=scope_of(merchant), actor=SYSTEM,
                          changes={"send_in_test_mode": True})
    subscribe_paid(api, "pro")
    message = EmailMessage.objects.get()
    assert message.status == "failed"
    assert "550" in message.last_error
    assert [a.outcome for a in message.attempts.all()] == [EmailAttempt.Outcome.BOUNCED]
    listing = operator.get("/admin/billing/emailmessage/?status=failed").content.decode()
    assert message.id in listing and "550" in listing
    detail = operator.get(f"/admin/billing/emailmessage/{message.id}/change/").content.decode()
    assert "No such mailbox here" in detail and "Bounced" in detail


def test_a_server_that_is_down_is_retried_later_and_the_error_kept(api, merchant, mail):
    shop_with_emails(api, merchant)
    mail.down = True
    subscribe_paid(api, "pro")
    message = EmailMessage.objects.get()
    assert message.status == "pending" and "451" in message.last_error
    mail.down = False
    assert emails_send_due(now=message.next_attempt_at) == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.attempt_count == 2
    assert len(mail.to(CUSTOMER_EMAIL)) == 1


def test_a_renewal_waiting_for_3d_secure_sends_the_link_that_completes_it(api, merchant, mail):
    shop_with_emails(api, merchant)
    pending = pay_checkout(api, subscribe(api, "pro"), THREE_DS_CARD)
    Client().post(urlsplit(pending["url"]).path, {"decision": "approve"})
    pro = Subscription.objects.get(product__slug="pro")
    advance(api, int((pro.current_period_end - now(api)).total_seconds()) + 60)
    [action] = [m for m in mail.to(CUSTOMER_EMAIL) if "Confirm" in m.subject]
    assert action.subject == "[TEST] Confirm your payment of MYR 20.00"
    [link] = [url for url in links_in(action.text) if "/authenticate/" in url]
    assert Client().post(urlsplit(link).path, {"decision": "approve"}).status_code == 200
    renewal = Invoice.objects.get(subscription=pro, reason="subscription_cycle")
    assert renewal.status == "paid"
    assert not [m for m in mail.to(CUSTOMER_EMAIL) if "failed" in m.subject]


def test_a_trial_ending_email_is_sent_when_the_test_clock_reaches_its_day_once(
        api, merchant, mail):
    shop_with_emails(api, merchant, trial_ending_days=3)
    define(api, {**PRO, "name": "Team", "slug": "team", "prices": [monthly(3000, trialDays=14)]})
    assert subscribe(api, "team")["action"] == "activated"
    team = Subscription.objects.get(product__slug="team")
    assert team.status == "trialing"
    advance(api, 10 * DAY)
    assert mail.to(CUSTOMER_EMAIL) == []  # 4 days left: not yet
    advance(api, DAY + 60)
    advance(api, 3600)  # again on the same day: not twice
    [ending] = mail.to(CUSTOMER_EMAIL)
    assert ending.subject == f"[TEST] Your Team trial ends on {team.trial_end:%-d %b %Y}"
    assert "MYR 30.00" in ending.text
    assert [url for url in links_in(ending.text) if "/portal/email/" in url]


def test_a_yearly_plan_gets_its_renewal_notice_a_week_before_and_a_monthly_one_none(
        api, merchant, mail):
    shop_with_emails(api, merchant)
    define(api, {**PRO, "name": "Pro yearly", "slug": "pro-yearly", "groupSlug": "yearly",
                 "prices": [{"type": "recurring", "billingInterval": "year", "amount": 20000}]})
    subscribe_paid(api, "pro-yearly")
    assert subscribe(api, "pro")["action"] == "activated"  # the saved card paid it
    yearly = Subscription.objects.get(product__slug="pro-yearly")
    mail.received.clear()
    until_end = (yearly.current_period_end - now(api)).total_seconds()
    advance(api, int(until_end) - 8 * DAY)
    assert [m.subject for m in mail.to(CUSTOMER_EMAIL) if "renews" in m.subject] == []
    advance(api, 2 * DAY)
    renews = [m for m in mail.to(CUSTOMER_EMAIL) if "renews" in m.subject]
    assert [m.subject for m in renews] == [
        f"[TEST] Your Pro yearly plan renews on {yearly.current_period_end:%-d %b %Y}"]
    assert "MYR 200.00" in renews[0].text


def test_canceling_now_sends_the_cancellation_and_the_refund(api, merchant, mail):
    shop_with_emails(api, merchant)
    subscribe_paid(api, "pro")
    advance(api, 15 * DAY)
    mail.received.clear()
    assert data_of(api.post(CANCEL, {"customer": "user_1", "immediate": True}))["canceled"]
    refund = Refund.objects.get()
    subjects = sorted(m.subject for m in mail.to(CUSTOMER_EMAIL))
    assert subjects == [f"[TEST] Refund of {format_money(refund.amount, 'MYR')} issued",
                        "[TEST] Your Pro subscription was canceled"]
    [refunded] = [m for m in mail.to(CUSTOMER_EMAIL) if "Refund" in m.subject]
    assert f"Credit note {refund.credit_note.number}" in refunded.text


def test_a_live_receipt_is_not_marked_as_test(live_api, merchant, mail):
    main_catalog(live_api)
    data_of(live_api.post(CUSTOMERS, {"customerId": "user_1", "email": CUSTOMER_EMAIL}), 201)
    checkout_page = urlsplit(subscribe(live_api, "pro")["url"]).path  # as the customer pays
    assert Client().post(checkout_page, {"card": "4242424242424242"}).status_code == 200
    [receipt] = mail.to(CUSTOMER_EMAIL)
    assert receipt.subject == "Receipt for your payment of MYR 20.00"
    assert receipt.message["X-Cynco-Test"] is None
    assert "Test mode" not in receipt.html and "TEST MODE" not in receipt.text
