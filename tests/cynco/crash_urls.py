"""The project's routes plus endpoints that fail on purpose, for the logging tests."""

from django.http import HttpResponse
from django.urls import path

from cynco.api.views import ApiView
from cynco.permissions import PublishableAllowed
from cynco.urls import urlpatterns as project_urlpatterns


class Crash(ApiView):
    permission_classes = [PublishableAllowed]

    def get(self, request):
        raise RuntimeError("the crash the logging test asked for")


def plain_crash(request):
    raise RuntimeError("a crash outside the API")


def ok(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/pay/test-crash", Crash.as_view()),
    path("plain-crash", plain_crash),
    path("plain-ok", ok),
    *project_urlpatterns,
]
