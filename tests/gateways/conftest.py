"""Set-up for the gateway tests: tasks run in-process, a scope per merchant, saved cards."""

from __future__ import annotations

import pytest

from cynco import celery_app
from cynco.tenancy import Scope
from gateways.services.checkout import checkout_session_create
from gateways.sandbox.checkout import sandbox_checkout_complete

SUCCESS_URL = "https://shop.example/thanks"
CANCEL_URL = "https://shop.example/pricing"


@pytest.fixture(autouse=True)
def tasks_run_inline():
    """Celery tasks run at once in the calling thread (as the worker would, only sooner)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def scope(merchant) -> Scope:
    return Scope(merchant.merchant.id, "test")


@pytest.fixture
def live_scope(merchant) -> Scope:
    return Scope(merchant.merchant.id, "live")


@pytest.fixture
def event_log(settings):
    """Records what billing's handlers would receive (attempt outcomes, gateway events)."""
    log = {"attempts": [], "events": []}
    settings.PAYMENT_ATTEMPT_HANDLERS = ["tests.gateways.conftest.record_attempt"]
    settings.GATEWAY_EVENT_HANDLERS = ["tests.gateways.conftest.record_event"]
    _LOG.clear()
    _LOG.update(log)
    yield _LOG


_LOG: dict = {}


def record_attempt(*, result, via):
    _LOG["attempts"].append((result, via))


def record_event(*, event, scope, attempt):
    _LOG["events"].append((event, scope, attempt))


def open_checkout(scope: Scope, *, customer="pcm_ali", amount=2000, key="chk-1", save=True,
                  mode="payment"):
    return checkout_session_create(
        scope=scope, amount=amount, currency="MYR", customer_reference=customer,
        description="Pro plan", success_url=SUCCESS_URL, cancel_url=CANCEL_URL,
        idempotency_key=key, save_payment_method=save, mode=mode,
    )


def saved_card(scope: Scope, card: str, *, customer="pcm_ali", key=None) -> str:
    """A customer's card saved through a sandbox set-up checkout; returns our PaymentMethod id."""
    session = open_checkout(scope, customer=customer, amount=0, key=key or f"setup-{card}-{customer}",
                            mode="setup")
    completion = sandbox_checkout_complete(session_id=session.session_id, card_number=card)
    if completion.status == "requires_action":
        from gateways.sandbox.checkout import sandbox_authenticate

        payment_id = completion.action_url.rsplit("/", 1)[1]
        completion = sandbox_authenticate(payment_id=payment_id, approve=True).checkout
    assert completion.status == "completed", completion
    return completion.payment_method_id


# --- local provider servers (Stripe: localstripe; CHIP: the fake in fake_chip.py) ----------

STRIPE_WEBHOOK_SECRET = "whsec_test_cynco"


@pytest.fixture(scope="session")
def localstripe():
    """localstripe in its own process for the whole session, its webhooks caught locally."""
    from tests.gateways.servers import LocalStripe, WebhookCatcher

    server, catcher = LocalStripe(), WebhookCatcher()
    server.register_webhook(url=catcher.url, secret=STRIPE_WEBHOOK_SECRET)
    server.webhooks = catcher
    yield server
    catcher.stop()
    server.stop()


@pytest.fixture
def stripe_account(settings, localstripe):
    """The server's default Stripe credentials, pointed at localstripe. Each test gets its own
    secret key, so idempotency keys of one test never replay another's."""
    import uuid

    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5
    settings.GATEWAY_DEFAULT_CREDENTIALS = {
        **settings.GATEWAY_DEFAULT_CREDENTIALS,
        "stripe": {"secret_key": f"sk_test_{uuid.uuid4().hex}",
                   "webhook_secret": STRIPE_WEBHOOK_SECRET},
    }
    settings.GATEWAY_DEFAULT_TEST = "stripe"
    return localstripe


@pytest.fixture(scope="session")
def fake_chip():
    from tests.gateways.fake_chip import FakeChip

    server = FakeChip()
    yield server
    server.stop()


@pytest.fixture
def chip_account(settings, fake_chip):
    """The server's default CHIP credentials, pointed at the fake CHIP server (company public
    key fetched from it, as in production when CHIP_PUBLIC_KEY is unset; the webhook's key
    configured, as CHIP_WEBHOOK_PUBLIC_KEY)."""
    settings.CHIP_API_BASE = fake_chip.url
    settings.CHIP_TIMEOUT_SECONDS = 5
    settings.GATEWAY_DEFAULT_CREDENTIALS = {
        **settings.GATEWAY_DEFAULT_CREDENTIALS,
        "chip": {"secret_key": "chip-test-key", "webhook_secret": "",
                 "options": {"brand_id": "brand-cynco",
                             "webhook_public_key": fake_chip.webhook_public_pem}},
    }
    settings.GATEWAY_DEFAULT_TEST = "chip"
    return fake_chip
