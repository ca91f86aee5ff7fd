"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.contract.hooks): requests as a real client
sends them.

An `Idempotency-Key` names one request: the API answers 422 IDEMPOTENCY_KEY_REUSED when the
same key comes with a different request (docs/api.md, Idempotency), which no OpenAPI document can
state. A client makes a fresh key per request, so the generated key gets a unique suffix.
"""

import sys
import uuid

import schemathesis

# Deep JSON Schema (bodies with allOf/oneOf rules inside free-form objects) can take the
# generator past Python's default recursion limit; under CPython 3.11 that surfaced as
# "SystemError: AST constructor recursion depth mismatch" inside schemathesis.
sys.setrecursionlimit(10_000)


@schemathesis.hook
def map_headers(ctx, headers):
    if headers and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = f"{headers['Idempotency-Key'][:200]}~{uuid.uuid4().hex}"
    return headers




@schemathesis.hook
def before_call(ctx, case, **kwargs):
    # The coverage phase builds its cases without map_headers. Its cases that leave a header
    # out on purpose (is it required?) are sent exactly as built.
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    if "MISSING" in str(getattr(data, "scenario", "")).upper():
        return
    key = (case.headers or {}).get("Idempotency-Key")
    if key is not None and "~" not in key:
        case.headers["Idempotency-Key"] = f"{key[:200]}~{uuid.uuid4().hex}"
