"""Which gateway, with which credentials, a merchant+environment pays through.

An operator may assign a merchant+environment its own `GatewayAccount` in the admin; otherwise
the server's default for that environment applies: `GATEWAY_DEFAULT_LIVE` / `GATEWAY_DEFAULT_TEST`
(both `sandbox` until Stripe and CHIP land), with the server's credentials for that gateway from
`settings.GATEWAY_DEFAULT_CREDENTIALS`. Gateway classes are installed by name in
`settings.GATEWAY_CLASSES`. A merchant never needs a gateway key of its own.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from cynco.tenancy import Scope
from gateways.base import Gateway, GatewayContext, UnknownGateway
from gateways.models import GatewayAccount


def installed_gateways() -> list[str]:
    return sorted(settings.GATEWAY_CLASSES)


def default_gateway_name(environment: str) -> str:
    """The server's default gateway for `environment` (live or test)."""
    return settings.GATEWAY_DEFAULT_LIVE if environment == "live" else settings.GATEWAY_DEFAULT_TEST


def build(context: GatewayContext) -> Gateway:
    """A gateway object of `context.name` acting with `context`'s credentials."""
    path = settings.GATEWAY_CLASSES.get(context.name)
    if path is None:
        raise UnknownGateway(f"No gateway named {context.name!r} is installed")
    return import_string(path)(context)


def default_context(name: str, *, merchant_id: str | None, environment: str | None
                    ) -> GatewayContext:
    """The server's own credentials for gateway `name`."""
    credentials = settings.GATEWAY_DEFAULT_CREDENTIALS.get(name, {})
    return GatewayContext(
        name=name,
        merchant_id=merchant_id,
        environment=environment,
        secret_key=credentials.get("secret_key", ""),
        webhook_secret=credentials.get("webhook_secret", ""),
        options=credentials.get("options", {}),
    )


def account_context(account: GatewayAccount) -> GatewayContext:
    return GatewayContext(
        name=account.gateway,
        merchant_id=account.merchant_id,
        environment=account.environment,
        account_id=account.id,
        secret_key=account.secret_key,
        webhook_secret=account.webhook_secret,
        options=account.options or {},
    )


def active_account(scope: Scope) -> GatewayAccount | None:
    return GatewayAccount.objects.for_scope(scope).filter(is_active=True).first()


def gateway_for(scope: Scope) -> Gateway:
    """The gateway `scope` pays through now: its operator-assigned account, else the default."""
    account = active_account(scope)
    if account is not None:
        return build(account_context(account))
    return build(default_context(
        default_gateway_name(scope.environment),
        merchant_id=scope.merchant_id, environment=scope.environment,
    ))


def gateway_used(*, name: str, merchant_id: str, environment: str, account_id: str | None
                 ) -> Gateway:
    """The gateway a past record (attempt, payment method) was made with, whatever the current
    assignment: a charge is settled and refunded where it was made."""
    if account_id:
        return build(account_context(GatewayAccount.objects.get(pk=account_id)))
    return build(default_context(name, merchant_id=merchant_id, environment=environment))


def gateway_for_webhook(name: str, account_id: str | None = None) -> Gateway:
    """The gateway that verifies a webhook arriving on `name`'s endpoint (per account or default).

    Raises UnknownGateway for an unknown name or an account of another gateway.
    """
    if account_id:
        account = GatewayAccount.objects.filter(pk=account_id, gateway=name).first()
        if account is None:
            raise UnknownGateway(f"No {name} gateway account {account_id}")
        return build(account_context(account))
    return build(default_context(name, merchant_id=None, environment=None))
