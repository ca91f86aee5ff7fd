"""Billing records, one module per area; every model is imported here so Django finds it.

Areas add a line below (`from billing.models.<area> import *`, with `__all__` in the module).
"""

from billing.models.catalog import *  # noqa: E402,F401,F403
from billing.models.customers import *  # noqa: E402,F401,F403
from billing.models.subscriptions import *  # noqa: E402,F401,F403
from billing.models.audit import *  # noqa: E402,F401,F403
from billing.models.webhooks import *  # noqa: E402,F401,F403
from billing.models.checkouts import *  # noqa: E402,F401,F403
from billing.models.invoices import *  # noqa: E402,F401,F403
from billing.models.coupons import *  # noqa: E402,F401,F403
from billing.models.rewards import *  # noqa: E402,F401,F403
from billing.models.refunds import *  # noqa: E402,F401,F403
from billing.models.entitlements import *  # noqa: E402,F401,F403
from billing.models.credit_notes import *  # noqa: E402,F401,F403
from billing.models.unapplied_payments import *  # noqa: E402,F401,F403
