"""Who an API request acts as, for the audit trail."""

from billing.services.audit import Actor


def actor_of(request) -> Actor:
    """The API key that made the request, as an audit actor (`actorType: api`)."""
    return Actor.api(request.auth.id)
