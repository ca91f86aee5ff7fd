"""The success side of the envelope: `{success: true, data}` and paginated lists."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.response import Response

from cynco.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def ok(data, *, status: int = 200) -> Response:
    return Response({"success": True, "data": data}, status=status)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def slice(self, queryset):
        return queryset[self.offset : self.offset + self.limit]


def page_of(request) -> Page:
    """`limit` (1-100, default 50) and `offset` (>= 0, default 0) from the query string."""
    details = []
    values = {}
    for name, default, low, high in (("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), ("offset", 0, 0, None)):
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        try:
            value = int(raw)
        except ValueError:
            details.append({"field": name, "message": "Must be an integer."})
            continue
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            details.append({"field": name, "message": f"Must be {bound}."})
            continue
        values[name] = value
    if details:
        raise ValidationFailed("Invalid pagination", details=details)
    return Page(**values)


def choices_of(request, name: str, choices) -> list[str]:
    """A comma-separated query parameter whose every item is one of `choices` (none: [])."""
    raw = request.query_params.get(name)
    if raw is None:
        return []
    items = raw.split(",")
    unknown = [item for item in items if item not in choices]
    if unknown:
        raise ValidationFailed.field(name, f"Unknown {name} '{unknown[0]}'.")
    return items


def paginated(items: list, *, total: int, page: Page) -> Response:
    return Response(
        {
            "success": True,
            "data": items,
            "pagination": {"total": total, "limit": page.limit, "offset": page.offset},
        }
    )
