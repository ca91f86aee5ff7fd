"""Which addresses may receive webhooks: a guard against server-side request forgery.

A merchant chooses its webhook URLs, and our workers POST to them from inside the operator's
network; a URL naming a private, loopback, link-local or otherwise non-public address would let
a merchant make our server call internal services. `WEBHOOK_PRIVATE_ADDRESSES` decides:

- `test` (default): only test-mode endpoints may use such addresses (a developer's receiver on
  localhost); live-mode endpoints must resolve to public addresses only.
- `all`: no restriction (a server whose merchants are all trusted, e.g. a single company).
- `none`: no endpoint may use them, test mode included.

The check runs when an endpoint is created and again before every delivery (a name may
resolve differently later). A name that does not resolve at creation is accepted and checked
at delivery. A name that resolves to a public address at the check but to a private one a
moment later (DNS rebinding) is outside what this module can see: an egress firewall is the
complete answer on servers shared by untrusted merchants (docs/webhooks.md).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

POLICIES = ("test", "all", "none")


def private_allowed(environment: str) -> bool:
    policy = settings.WEBHOOK_PRIVATE_ADDRESSES
    return policy == "all" or (policy == "test" and environment == "test")


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def addresses_of(host: str, port: int) -> list[str] | None:
    """The addresses `host` names (itself, for an IP literal); None when it does not resolve."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return None
    return sorted({info[4][0] for info in found})


def refusal(url: str, environment: str, *, unresolved_ok: bool) -> str | None:
    """Why `url` may not receive this environment's webhooks, or None when it may.
    `unresolved_ok`: a name that does not resolve passes (at creation) or is refused."""
    if private_allowed(environment):
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = addresses_of(host, port)
    if addresses is None:
        return None if unresolved_ok else f"{host} does not resolve"
    private = [address for address in addresses if not is_public(address)]
    if private:
        return (f"{host} is a private or reserved address ({private[0]}); "
                f"{environment} webhooks go to public addresses only")
    return None
