"""Make tests/gateways/stripe_openapi.json: the few parts of Stripe's published OpenAPI
definition (public repository stripe/openapi) that the Stripe gateway reads.

    python scripts/trim_stripe_openapi.py SPEC3 FIXTURES3 --spec-commit SHA --fixtures-commit SHA

SPEC3 is `openapi/spec3.json` or `openapi/spec3.yaml` of that repository, FIXTURES3 its
`openapi/fixtures3.json` (Stripe's example object of each resource). Kept:

- the component schemas the gateway reads (SCHEMAS) as JSON Schema `$defs`, with only the
  keywords that validate (descriptions dropped); a reference to any other schema becomes `{}`
  (anything), so nested objects we never read are not checked;
- the 200 responses of the list and search endpoints the gateway calls (RESPONSES), as
  `$defs` of their own;
- every webhook event type Stripe lets an endpoint subscribe to;
- Stripe's example objects of the resources we read, as a base for official-shape payloads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SCHEMAS = [
    "api_errors", "charge", "error", "event", "notification_event_data",
    "notification_event_request", "payment_intent", "payment_intent_next_action",
    "payment_intent_next_action_redirect_to_url", "payment_method", "payment_method_card",
    "refund", "setup_intent", "setup_intent_next_action",
    "setup_intent_next_action_redirect_to_url",
]
RESPONSES = {"/v1/payment_intents": "payment_intent_list",
             "/v1/payment_intents/search": "payment_intent_search_result",
             "/v1/refunds": "refund_list"}
EXAMPLES = ["payment_intent", "setup_intent", "payment_method", "refund", "charge", "event"]
KEYWORDS = {"type", "properties", "required", "enum", "nullable", "anyOf", "oneOf", "allOf",
            "items", "additionalProperties"}


def trimmed(node):
    """`node` as JSON Schema (2020-12) with only validating keywords: OpenAPI 3.0's
    `nullable: true` becomes "or null" (Stripe means exactly that, for enums and anyOf too),
    and a reference outside SCHEMAS becomes `{}` (anything)."""
    if isinstance(node, list):
        return [trimmed(item) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        return {"$ref": f"#/$defs/{name}"} if name in SCHEMAS else {}
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: trimmed(prop) for name, prop in value.items()}
        elif key in KEYWORDS and key != "nullable":
            out[key] = trimmed(value)
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, out]}
    return out


def load(path: Path) -> dict:
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(path.read_text())
    return json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", type=Path)
    parser.add_argument("fixtures", type=Path)
    parser.add_argument("--spec-commit", required=True)
    parser.add_argument("--fixtures-commit", required=True)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent
                        / "tests/gateways/stripe_openapi.json")
    args = parser.parse_args()
    spec, fixtures = load(args.spec), load(args.fixtures)["resources"]
    schemas = spec["components"]["schemas"]
    webhook_form = spec["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]
    subscribable = set(webhook_form["properties"]["enabled_events"]["items"]["enum"])
    definitions = {name: trimmed(schemas[name]) for name in SCHEMAS}
    for path, name in RESPONSES.items():
        definitions[name] = trimmed(spec["paths"][path]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"])
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "source": {
            "repository": "stripe/openapi",
            "schemas": {"file": f"openapi/{args.spec.name}", "commit": args.spec_commit,
                        "api_version": spec["info"]["version"]},
            "examples": {"file": "openapi/fixtures3.json", "commit": args.fixtures_commit},
            "made_by": "scripts/trim_stripe_openapi.py",
        },
        "$defs": definitions,
        "responses": {f"GET {path}": name for path, name in RESPONSES.items()},
        "event_types": sorted(subscribable),
        "examples": {name: fixtures[name] for name in EXAMPLES},
    }
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, "
          f"{len(definitions)} schemas)")


if __name__ == "__main__":
    main()
