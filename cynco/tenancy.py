"""The request's tenant: one merchant in one environment. Every query goes through `scoped`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Scope:
    """Who an API call acts for. Selectors and services take it as `scope=`."""

    merchant_id: str
    environment: str

    @property
    def is_test(self) -> bool:
        return self.environment == "test"


def scoped(rows: QuerySet | type[Model], scope: Scope) -> QuerySet:
    """Rows of `rows` (a queryset or a tenant model) that belong to `scope`, and only those."""
    queryset = rows._default_manager.all() if isinstance(rows, type) else rows
    return queryset.filter(merchant_id=scope.merchant_id, environment=scope.environment)


def scope_of(request) -> Scope:
    """The scope of an authenticated API request (set by `ApiKeyAuthentication`)."""
    key = request.auth
    return Scope(merchant_id=key.merchant_id, environment=key.environment)
