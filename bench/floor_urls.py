"""The benchmark's floor: a minimal request on the project's own stack (same settings,
middleware and gunicorn). `POST /api/v1/pay/floor` parses the JSON body and answers a fixed
envelope without touching the database, so what it costs is what any request costs before
doing any work. bench/entitlements.py measures it beside track."""

import json

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

BODY = json.dumps({"success": True, "data": {"recorded": True, "allowed": True}}).encode()


@csrf_exempt
def floor(request):
    json.loads(request.body)
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [path("api/v1/pay/floor", floor), path("", include("cynco.urls"))]
