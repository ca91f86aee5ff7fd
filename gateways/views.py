"""The incoming webhook endpoint of every gateway: outside /api/v1/, no API key; each event is
verified by its gateway's own signature before anything is trusted."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gateways.base import UnknownGateway
from gateways.services.webhooks import webhook_receive


@csrf_exempt
@require_POST
def gateway_webhook(request, gateway: str, account_id: str | None = None):
    """POST /gateways/<gateway>/webhook[/<account id>]: store the event raw, answer at once.

    200 for a stored event and for a replay (`duplicate: true`), so the provider stops
    retrying; 400 when the signature does not verify; 404 for an unknown gateway or account.
    """
    try:
        receipt = webhook_receive(gateway=gateway, headers=dict(request.headers),
                                  body=request.body, account_id=account_id)
    except UnknownGateway:
        return JsonResponse({"received": False, "error": "unknown gateway"}, status=404)
    if not receipt.verified:
        return JsonResponse({"received": False, "error": receipt.error}, status=400)
    return JsonResponse({"received": True, "duplicate": receipt.duplicate})
