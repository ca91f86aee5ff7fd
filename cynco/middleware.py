"""Request/response plumbing that is not specific to one view."""

VERSION_HEADER = "X-CyncoBilling-Version"


class ApiVersionHeaderMiddleware:
    """Echoes the client's `X-CyncoBilling-Version` header back (API.md, Transport)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        version = request.headers.get(VERSION_HEADER)
        if version and len(version) <= 64:
            response[VERSION_HEADER] = version
        return response
