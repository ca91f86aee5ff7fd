"""Query-string parameters of billing's endpoints."""

from cynco.errors import ValidationFailed


def required_query_param(request, name: str) -> str:
    """A query parameter that must be present and non-empty (422 naming it otherwise)."""
    value = request.query_params.get(name)
    if not value:
        raise ValidationFailed.field(name, "This query parameter is required.")
    return value
