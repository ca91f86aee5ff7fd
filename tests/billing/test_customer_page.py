"""The console's customer page: one screen with everything about a customer (subscriptions,
balances as bars, invoices, payments with gateway ids, ledger entries, entities, audit trail,
webhook deliveries), in a number of queries that does not grow with the customer's history, and
its actions: each shows what will happen first (GET changes nothing), runs the API's service on
confirmation and writes an audit row naming the staff user."""

from __future__ import annotations

import pytest

from billing.models import AuditEvent, Balance, Customer, Subscription, WebhookDelivery
from billing.services.audit import SYSTEM
from billing.services.webhook_deliveries import webhook_deliveries_run_due
from billing.services.webhooks import webhook_endpoint_create
from cynco.tenancy import Scope
from tests.billing.admin_console import staff_client
from tests.billing.subscribing import DAY, advance, current, customer, main_catalog, subscribe_paid

pytestmark = pytest.mark.django_db(transaction=True)
PAGE_QUERIES = 40  # the page's whole cost, whatever the customer's history


@pytest.fixture
def jane(api, merchant, receiver):
    """Jane pays Pro (MYR 20.00) by card, with a webhook endpoint that received her events."""
    webhook_endpoint_create(scope=Scope(merchant.merchant.id, "test"), url=receiver.url,
                            events=None, actor=SYSTEM)
    main_catalog(api)
    customer(api, "jane")
    subscribe_paid(api, "pro", "jane")
    webhook_deliveries_run_due()
    return Customer.objects.get(external_id="jane")


def page_of(jane) -> str:
    return f"/admin/billing/customer/{jane.pk}/change/"


def action_of(jane, name: str) -> str:
    return f"/admin/billing/customer/{jane.pk}/actions/{name}/"


def audited(event: str) -> AuditEvent:
    return AuditEvent.objects.get(event=f"console.{event}")


def test_the_customer_page_shows_everything_about_jane_on_one_screen(operator, jane):
    html = operator.get(page_of(jane)).content.decode()
    subscription = Subscription.objects.get(customer=jane, product__slug="pro")
    invoice = jane.invoices.get()
    for section in ("Subscriptions", "Balances", "Invoices", "Payments and refunds",
                    "Ledger entries", "Entities", "Audit trail", "Webhook deliveries"):
        assert f">{section}" in html, section
    assert f'href="/admin/billing/subscription/{subscription.pk}/change/">Pro</a>' in html
    assert invoice.number in html and "MYR 20.00" in html
    assert 'role="progressbar" aria-label="Messages used"' in html and "0 / 1,000" in html
    assert "sandbox" in html and "subscription.created" in html
    assert "Unearned revenue" in html or "DR MYR 20.00" in html  # the invoice's entry lines
    for name in ("grant", "cancel_at_period_end", "change_plan", "portal"):
        assert action_of(jane, name) in html


def test_the_customer_page_costs_the_same_queries_with_a_long_history(
        operator, api, jane, django_assert_max_num_queries):
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert operator.get(page_of(jane)).status_code == 200
    for _ in range(3):  # three renewals: more invoices, payments, entries, deliveries
        advance(api, 31 * DAY)
    webhook_deliveries_run_due()
    assert jane.invoices.count() == 4
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert operator.get(page_of(jane)).status_code == 200


def test_cancel_at_period_end_shows_what_happens_then_runs_on_confirmation(operator, api, jane):
    subscription = Subscription.objects.get(customer=jane, product__slug="pro")
    form = operator.get(action_of(jane, "cancel_at_period_end"))
    assert form.status_code == 200 and b"Preview" in form.content
    preview = operator.get(action_of(jane, "cancel_at_period_end"),
                           {"subscription": subscription.pk}).content.decode()
    assert "What will happen" in preview and "Confirm: cancel at period end" in preview
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is False  # GET changed nothing
    done = operator.post(action_of(jane, "cancel_at_period_end"),
                         {"subscription": subscription.pk}, follow=True)
    assert done.status_code == 200
    assert current(api, "jane")["pro"]["cancelAtPeriodEnd"] is True
    row = audited("cancel_at_period_end")
    assert row.customer_id == jane.id and row.details["staff"] == "root"
    assert row.subscription_id == subscription.pk


def test_cancel_now_previews_the_refund_the_service_will_send(operator, api, jane):
    subscription = Subscription.objects.get(customer=jane, product__slug="pro")
    advance(api, 15 * DAY)
    preview = operator.get(action_of(jane, "cancel_now"),
                           {"subscription": subscription.pk}).content.decode()
    assert "Refund to the customer" in preview and "MYR " in preview
    operator.post(action_of(jane, "cancel_now"), {"subscription": subscription.pk})
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    refund = jane.refunds.get()
    assert f"MYR {refund.amount / 100:.2f}" in preview  # the preview was the exact amount
    assert audited("cancel_now").details["result"] == "canceled_immediately"


def test_pause_and_resume_go_through_the_update_service(operator, jane):
    subscription = Subscription.objects.get(customer=jane, product__slug="pro")
    operator.post(action_of(jane, "pause"), {"subscription": subscription.pk})
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAUSED
    operator.post(action_of(jane, "resume"), {"subscription": subscription.pk})
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert audited("pause") and audited("resume")


def test_granting_units_raises_the_balance_and_is_audited(operator, jane):
    from billing.models import Feature

    messages = Feature.objects.get(merchant_id=jane.merchant_id, environment="test",
                                   slug="messages")
    values = {"feature": messages.pk, "amount": "250", "reset_interval": "one_off"}
    preview = operator.get(action_of(jane, "grant"), values).content.decode()
    assert "Units granted" in preview and "250" in preview
    operator.post(action_of(jane, "grant"), values)
    balance = Balance.objects.get(customer=jane, feature=messages, entity_key="")
    assert balance.granted == 1250
    assert audited("grant").details["granted"] == "250"


def test_changing_plan_shows_the_proration_preview_first_then_upgrades(operator, api, jane):
    from billing.models import Product

    enterprise = Product.objects.get(merchant_id=jane.merchant_id, environment="test",
                                     slug="enterprise")
    advance(api, 15 * DAY)
    preview = operator.get(action_of(jane, "change_plan"),
                           {"product": enterprise.pk}).content.decode()
    assert "upgrade" in preview and "Charged now to the saved card" in preview
    assert "pro" in current(api, "jane")  # GET changed nothing
    operator.post(action_of(jane, "change_plan"), {"product": enterprise.pk})
    assert "enterprise" in current(api, "jane")
    assert audited("change_plan").details["product"] == "enterprise"


def test_resending_a_webhook_sends_it_again(operator, jane, receiver):
    delivery = WebhookDelivery.objects.filter(event__type="subscription.created").first()
    assert delivery is not None and delivery.status == WebhookDelivery.Status.DELIVERED
    first_delivered, received = delivery.delivered_at, len(receiver.received)
    html = operator.get(page_of(jane)).content.decode()
    assert f"{action_of(jane, 'resend_webhook')}?delivery={delivery.pk}" in html
    response = operator.post(action_of(jane, "resend_webhook"), {"delivery": delivery.pk})
    assert response.status_code == 302
    webhook_deliveries_run_due()
    delivery.refresh_from_db()
    assert len(receiver.received) == received + 1
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.delivered_at > first_delivered
    assert audited("resend_webhook").details["deliveryId"] == delivery.pk


def test_opening_the_portal_as_jane_is_audited_and_lands_on_her_portal(operator, jane):
    response = operator.post(action_of(jane, "portal"))
    assert response.status_code == 302 and "/portal/" in response["Location"]
    assert audited("portal").details["staff"] == "root"


def test_staff_of_another_merchant_cannot_open_janes_page_or_act_on_her(
        other_merchant, jane):
    clerk = staff_client(other_merchant.merchant, models=("customer", "subscription"))
    subscription = Subscription.objects.get(customer=jane, product__slug="pro")
    assert clerk.get(page_of(jane)).status_code in (302, 404)
    for name in ("cancel_now", "portal", "grant"):
        assert clerk.get(action_of(jane, name)).status_code == 404
        assert clerk.post(action_of(jane, name), {"subscription": subscription.pk}
                          ).status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert not AuditEvent.objects.filter(event__startswith="console.").exists()
