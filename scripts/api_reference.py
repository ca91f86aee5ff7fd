"""Writes docs/api-reference.md from the server's OpenAPI document.

    .venv/bin/python scripts/api_reference.py          # rewrite docs/api-reference.md
    .venv/bin/python scripts/api_reference.py --check  # exit 1 if it is out of date

The document is generated in-process (drf-spectacular, as `GET /api/schema/` serves it), so
the reference always says what the code does: every operation by area, its keys, query
parameters, body fields, the shape of `data` and its error statuses, then every object. The
rules that no schema can carry (check, track, locks, proration, idempotency, …) are in
docs/api.md, which links here. tests/test_docs.py fails when this file is stale.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TARGET = BASE_DIR / "docs" / "api-reference.md"
METHODS = ("get", "post", "put", "patch", "delete")
ERROR_STATUSES = ("401", "402", "403", "404", "409", "410", "413", "422", "429")


def openapi_document() -> dict:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
    import django

    django.setup()
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def anchor(name: str) -> str:
    return "object-" + name.lower()


def ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def type_of(schema: dict) -> str:
    """A short, readable type: `string (date-time)`, `Plan[]`, `a \\| b`, links to objects."""
    name = ref_name(schema)
    if name:
        return f"[{name}](#{anchor(name)})"
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            joined = " or ".join(type_of(part) for part in schema[key])
            return joined + (" \\| null" if schema.get("nullable") else "")
    kind = schema.get("type", "any")
    if kind == "array":
        text = type_of(schema.get("items", {})) + "[]"
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict) and \
            schema["additionalProperties"]:
        text = "map of " + type_of(schema["additionalProperties"])
    elif kind == "object":
        text = "object"
    else:
        text = kind
        if schema.get("format"):
            text += f" ({schema['format']})"
    if schema.get("enum"):
        text = " \\| ".join(f"`{value}`" for value in schema["enum"] if value is not None)
    if schema.get("nullable"):
        text += " \\| null"
    return text


def limits(schema: dict) -> str:
    parts = []
    for key, word in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"),
                      ("maxLength", "length ≤")):
        if key in schema:
            parts.append(f"{word} {schema[key]}")
    if "default" in schema:
        parts.append(f"default `{json.dumps(schema['default'])}`")
    return ", ".join(parts)


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") if text else ""


def field_rows(schema: dict, components: dict) -> list[str]:
    schema = components.get(ref_name(schema), schema) if ref_name(schema) else schema
    required = set(schema.get("required", []))
    rows = []
    for name, field in schema.get("properties", {}).items():
        notes = "; ".join(part for part in (cell(field.get("description", "")),
                                            limits(field)) if part)
        rows.append(f"| `{name}` | {type_of(field)} | {'yes' if name in required else ''} "
                    f"| {notes} |")
    return rows


def table(rows: list[str], head: str) -> list[str]:
    return [head, "|---|---|---|---|", *rows] if rows else []


def data_type(operation: dict) -> str:
    """What `data` is, from the success response's envelope(s)."""
    for status in ("200", "201"):
        response = operation.get("responses", {}).get(status)
        if not response:
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        envelopes = schema.get("anyOf") or schema.get("oneOf") or [schema]
        kinds = []
        for envelope in envelopes:
            name = ref_name(envelope) or ""
            kinds.append(name)
        return status, response.get("description", ""), kinds
    return "", "", []


def envelope_text(kinds: list[str], components: dict) -> str:
    shown = []
    for name in kinds:
        envelope = components.get(name, {})
        data = envelope.get("properties", {}).get("data", {})
        text = type_of(data) if data else f"`{name}`"
        if "pagination" in envelope.get("properties", {}):
            text += " (with `pagination`)"
        shown.append(text)
    return " or ".join(shown)


def operation_section(path: str, method: str, operation: dict, components: dict) -> list[str]:
    lines = [f"### {method.upper()} `{path}`", ""]
    summary = operation.get("summary", "")
    description = operation.get("description", "")
    lines.append(f"{summary}. {description}".strip() if summary else description)
    lines.append("")
    lines.append(f"Operation id: `{operation.get('operationId', '')}`.")
    lines.append("")
    query = [p for p in operation.get("parameters", []) if p.get("in") in ("query", "path")]
    rows = [f"| `{p['name']}` | {type_of(p.get('schema', {}))} ({p['in']}) | "
            f"{'yes' if p.get('required') else ''} | {cell(p.get('description', ''))} |"
            for p in query]
    lines += table(rows, "| parameter | type | required | notes |")
    if rows:
        lines.append("")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if body.get("schema"):
        name = ref_name(body["schema"])
        lines.append(f"Body: [{name}](#{anchor(name)})." if name else "Body: JSON.")
        lines.append("")
        lines += table(field_rows(body["schema"], components),
                       "| field | type | required | notes |")
        lines.append("")
    status, said, kinds = data_type(operation)
    if status:
        said = "" if said.startswith("`data` is") else cell(said)
        lines.append(f"Answer: {status}, `data` is {envelope_text(kinds, components)}. "
                     f"{said}".rstrip())
        lines.append("")
    errors = [code for code in operation.get("responses", {}) if code in ERROR_STATUSES]
    if errors:
        lines.append("Errors: " + ", ".join(errors) + " (see [errors](api.md#errors)).")
        lines.append("")
    return lines


def render(document: dict) -> str:
    components = document["components"]["schemas"]
    lines = [
        "# API reference",
        "",
        "<!-- Generated by scripts/api_reference.py from the OpenAPI document: do not edit "
        "by hand. -->",
        "",
        f"{document['info']['title']} {document['info']['version']}. Every answer is the "
        "envelope `{success: true, data}` (lists add `pagination`) or `{success: false, error: "
        "{code, message, details}}`; send `Authorization: Bearer <key>`. The rules behind "
        "these operations (what check, track, locks, subscribe and idempotency do) are in "
        "[the API contract](api.md); the running server serves this document at "
        "`/api/schema/` and browsable at `/api/docs/`.",
        "",
    ]
    by_tag: dict[str, list] = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["Other"])[0]
                by_tag.setdefault(tag, []).append((path, method, item[method]))
    descriptions = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    lines.append("## Areas")
    lines.append("")
    for tag, operations in by_tag.items():
        if operations:
            lines.append(f"- [{tag}](#{slug(tag)}): {descriptions.get(tag, '')}")
    lines.append("- [Objects](#objects)")
    lines.append("")
    for tag, operations in by_tag.items():
        if not operations:
            continue
        lines += [f"## {tag}", "", descriptions.get(tag, ""), ""]
        for path, method, operation in operations:
            lines += operation_section(path, method, operation, components)
    lines += ["## Objects", ""]
    for name in sorted(components):
        schema = components[name]
        if name.endswith(("Response", "Page", "List")) and "data" in schema.get("properties", {}):
            continue
        lines += [f'<a id="{anchor(name)}"></a>', "", f"### {name}", ""]
        if schema.get("properties"):
            lines += table(field_rows(schema, components), "| field | type | required | notes |")
        else:
            lines.append(f"{type_of(schema)}.")
        lines.append("")
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    check = parser.parse_args().check
    print("[api-reference] generating the OpenAPI document", flush=True)
    text = render(openapi_document())
    if check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(BASE_DIR)} is out of date: "
                  "run .venv/bin/python scripts/api_reference.py")
            return 1
        print(f"{TARGET.relative_to(BASE_DIR)} is up to date")
        return 0
    TARGET.write_text(text)
    print(f"[api-reference] wrote {TARGET.relative_to(BASE_DIR)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
