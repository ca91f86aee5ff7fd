"""Crash injection for the reliability tests (docs/reliability.md, Crash injection).

`crash_point("charge.gateway_answered")` marks a phase boundary of a charge. When the process
was started with CRASH_POINT naming that boundary, the process kills itself there with SIGKILL
— no cleanup, no rollback handlers, exactly like a machine that loses power — so a test can
prove that a restart and the recovery sweeper lose and double nothing. CRASH_POINT is read once,
at start-up (settings); unset, as in production, each call is one comparison of two strings.
`manage.py check` refuses CRASH_POINT where real money could move (cynco.E002).

The points, in the order a charge passes them:

- `charge.attempt_recorded`: the pending PaymentAttempt is committed; no gateway call yet.
- `charge.gateway_answered`: the gateway charged the card; its answer is not recorded yet.
- `charge.before_entry`: in the transaction that pays the invoice, before the payment's
  journal entry is posted.
- `charge.invoice_paid`: the entry is posted and the invoice marked paid; not yet committed.
- `charge.fulfilled`: all of it committed; the API has not answered yet.
"""

from __future__ import annotations

import os
import signal

from django.conf import settings
from django.core.checks import Error, register

POINTS = (
    "charge.attempt_recorded",
    "charge.gateway_answered",
    "charge.before_entry",
    "charge.invoice_paid",
    "charge.fulfilled",
)


def crash_point(name: str) -> None:
    """Die here (SIGKILL) if this process was started to crash at `name`."""
    if settings.CRASH_POINT == name:
        os.kill(os.getpid(), signal.SIGKILL)


@register()
def crash_point_only_in_tests(app_configs, **kwargs):
    errors = []
    point = settings.CRASH_POINT
    if point and point not in POINTS:
        errors.append(Error(f"CRASH_POINT={point!r} names no crash point", id="cynco.E001",
                            hint=f"One of {', '.join(POINTS)}"))
    if point and settings.GATEWAY_DEFAULT_LIVE != "sandbox":
        errors.append(Error("CRASH_POINT is set on a server whose live payments use a real "
                            "gateway", id="cynco.E002",
                            hint="Crash injection is for test servers only: unset CRASH_POINT"))
    return errors
