"""Which gateway a merchant+environment pays through, and how its secrets are kept."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection

from cynco.tenancy import Scope
from gateways import registry
from gateways.apps import check_default_gateways
from gateways.base import Gateway, UnknownGateway
from gateways.credentials import _cipher
from gateways.models import GatewayAccount
from gateways.sandbox.gateway import SandboxGateway

pytestmark = pytest.mark.django_db


def account(merchant, environment="test", **fields):
    return GatewayAccount.objects.create(merchant=merchant.merchant, environment=environment,
                                         gateway="sandbox", **fields)


def test_without_an_assigned_account_both_environments_use_the_server_default(scope, live_scope):
    for each in (scope, live_scope):
        gateway = registry.gateway_for(each)
        assert isinstance(gateway, SandboxGateway) and isinstance(gateway, Gateway)
        assert gateway.context.account_id is None
        assert gateway.context.merchant_id == each.merchant_id


def test_the_default_per_environment_comes_from_settings(scope, settings):
    settings.GATEWAY_DEFAULT_TEST = "chip"
    with pytest.raises(UnknownGateway):
        registry.gateway_for(scope)
    assert [problem.id for problem in check_default_gateways()] == ["gateways.E001",
                                                                     "gateways.I001"]


def test_an_operator_assigned_account_is_used_for_its_merchant_and_environment_only(
    merchant, other_merchant, scope, live_scope
):
    assigned = account(merchant, secret_key="sk_assigned", webhook_secret="whsec_assigned")

    gateway = registry.gateway_for(scope)

    assert gateway.context.account_id == assigned.id
    assert gateway.context.secret_key == "sk_assigned"
    assert registry.gateway_for(live_scope).context.account_id is None
    other = Scope(other_merchant.merchant.id, "test")
    assert registry.gateway_for(other).context.account_id is None


def test_an_inactive_account_falls_back_to_the_default_and_only_one_may_be_active(merchant, scope):
    account(merchant, is_active=False)
    assert registry.gateway_for(scope).context.account_id is None
    account(merchant)
    with pytest.raises(IntegrityError):
        account(merchant)


def test_secrets_are_not_readable_in_the_database_row(merchant):
    saved = account(merchant, secret_key="sk_live_very_secret", webhook_secret="whsec_hidden")

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_key, webhook_secret FROM gateways_gatewayaccount "
                       "WHERE id = %s", [saved.id])
        stored_key, stored_webhook = cursor.fetchone()

    assert "very_secret" not in stored_key and "hidden" not in stored_webhook
    assert stored_key.startswith("gAAAAA")  # a Fernet token
    assert GatewayAccount.objects.get(pk=saved.id).secret_key == "sk_live_very_secret"
    # History rows leave secrets out altogether.
    assert not hasattr(saved.history.first(), "secret_key")


def test_keys_rotate_new_key_first_old_still_decrypts(merchant, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.GATEWAY_ENCRYPTION_KEYS = [old]
    saved = account(merchant, secret_key="sk_rotate_me")

    settings.GATEWAY_ENCRYPTION_KEYS = [new, old]
    assert GatewayAccount.objects.get(pk=saved.id).secret_key == "sk_rotate_me"

    settings.GATEWAY_ENCRYPTION_KEYS = [new]
    _cipher.cache_clear()
    with pytest.raises(ImproperlyConfigured):
        GatewayAccount.objects.get(pk=saved.id)


def test_the_admin_never_shows_a_secret_and_blank_keeps_it(admin_client, merchant):
    saved = account(merchant, secret_key="sk_never_shown", webhook_secret="whsec_never_shown")
    url = f"/admin/gateways/gatewayaccount/{saved.id}/change/"

    page = admin_client.get(url).content.decode()
    assert "never_shown" not in page
    assert "never_shown" not in admin_client.get("/admin/gateways/gatewayaccount/").content.decode()

    response = admin_client.post(url, {
        "merchant": merchant.merchant.id, "environment": "test", "gateway": "sandbox",
        "label": "Renamed", "secret_key": "", "webhook_secret": "whsec_new", "options": "{}",
        "is_active": "on",
    })

    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.label, saved.secret_key, saved.webhook_secret) == (
        "Renamed", "sk_never_shown", "whsec_new")


def test_rotating_re_encrypts_with_the_new_key_so_the_old_one_can_go(merchant, settings):
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.GATEWAY_ENCRYPTION_KEYS = [old]
    saved = account(merchant, secret_key="sk_rotated")
    settings.GATEWAY_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_gateway_secrets", stdout=open("/dev/null", "w"))

    settings.GATEWAY_ENCRYPTION_KEYS = [new]
    assert GatewayAccount.objects.get(pk=saved.id).secret_key == "sk_rotated"
