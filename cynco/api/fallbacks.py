"""Envelope answers for what no API view handles: unknown paths, Django's own 400 and 500."""

from django.views.decorators.csrf import csrf_exempt

from cynco.errors import ApiError, InternalError, NotFound, json_error_response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return json_error_response(NotFound(f"No endpoint {request.method} {request.path}"))


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def server_error(request, *args, **kwargs):
    if _is_api(request):
        return json_error_response(InternalError())
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


def bad_request(request, exception=None, *args, **kwargs):
    if _is_api(request):
        return json_error_response(ApiError("Bad request"))
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)
