"""`GET /test/clock`: the test environment's business time (test keys only)."""

from rest_framework import serializers

from cynco import clock
from cynco.api.schema import openapi, shape
from cynco.api.views import ApiView
from cynco.errors import Forbidden
from cynco.responses import ok


def require_test_environment(view) -> None:
    if not view.scope.is_test:
        raise Forbidden("Test helpers need a test-mode key")


class TestClockView(ApiView):
    @openapi("test_clock_get", summary="The test environment's business time",
             data=shape("TestClock", now=serializers.DateTimeField()), errors=(403,))
    def get(self, request):
        require_test_environment(self)
        return ok({"now": clock.now(self.scope)})
