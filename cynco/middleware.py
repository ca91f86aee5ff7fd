"""Request/response plumbing that is not specific to one view."""

VERSION_HEADER = "X-CyncoBilling-Version"
LEGACY_VERSION_HEADER = "X-CyncoPay-Version"  # sent by the client's @cynco/pay releases


class ApiVersionHeaderMiddleware:
    """Echoes the client's `X-CyncoBilling-Version` header back (API.md, Transport); the older
    `X-CyncoPay-Version` is accepted too and echoed under the current name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        version = request.headers.get(VERSION_HEADER) or request.headers.get(LEGACY_VERSION_HEADER)
        if version and len(version) <= 64:
            response[VERSION_HEADER] = version
        return response
