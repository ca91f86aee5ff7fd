"""JSON bodies parsed exactly: decimals stay `Decimal`, NaN and Infinity are refused, and
nesting is bounded (MAX_JSON_DEPTH) so that no body can exhaust the interpreter's stack."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from cynco.errors import PayloadTooLarge

# Arrays and objects inside one another, counting the body itself as level 1. No field of the
# API needs more than a handful; metadata gets the rest. Documented in docs/api-conventions.md.
MAX_JSON_DEPTH = 64


class JsonTooDeep(ValueError):
    def __init__(self):
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number")


def load_json(text: str):
    """`text` as JSON with fractions as Decimal. Raises ValueError (JsonTooDeep for nesting
    beyond MAX_JSON_DEPTH) for anything else."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError:
        raise JsonTooDeep() from None
    # Counting brackets (strings included) is a cheap bound: most bodies stop here.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        _check_depth(value)
    return value


def _check_depth(value) -> None:
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise JsonTooDeep()
        pending.extend((child, depth + 1) for child in children)


class StrictJSONParser(JSONParser):
    """Like DRF's JSONParser, but `1.5` parses to Decimal("1.5") rather than a binary float, so
    usage amounts with six decimal places arrive intact."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
        try:
            return load_json(raw.decode(encoding))
        except JsonTooDeep as exc:
            raise ParseError(str(exc)) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
