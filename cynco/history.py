"""django-simple-history, set up for this project: `history = model_history()` on a model.

API calls carry an `ApiPrincipal` as `request.user`, not a Django user; history rows record a
Django user only for changes made in the admin, and API changes stay attributable through the
audit trail (which records the key).
"""

from django.contrib.auth import get_user_model
from simple_history.models import HistoricalRecords


def history_user(instance=None, request=None, **kwargs):
    """The admin user who made a change, or None for API, task and shell changes."""
    user = getattr(request, "user", None) if request is not None else None
    if user is None:
        from simple_history.models import HistoricalRecords as _records

        context_request = getattr(_records.context, "request", None)
        user = getattr(context_request, "user", None)
    return user if isinstance(user, get_user_model()) and user.is_authenticated else None


def model_history(**kwargs) -> HistoricalRecords:
    """`HistoricalRecords` that tolerates API principals (use this in every app)."""
    return HistoricalRecords(get_user=history_user, **kwargs)
