"""Pages reached from billing emails and invoices: the email's way into the portal, the
portal's card update, and the merchant's logo.

An email's portal link lives 7 days (cynco.links `portal_email`); opening it makes a fresh
one-hour portal link and goes there, so the portal's own rule (a session of an hour) holds.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing.models import Customer, InvoiceIdentity
from billing.services.card_update import card_update_checkout_create
from cynco.links import LinkExpired, LinkInvalid, LinkTarget, absolute_url, make_token, read_token
from cynco.tenancy import Scope
from portal.views import link_problem, portal_link


@require_GET
def portal_from_email(request, token: str):
    """Open the portal of the customer an email was sent to."""
    try:
        target = read_token("portal_email", token)
    except LinkExpired:
        return render(request, "portal/link_problem.html", {
            "heading": "This link has expired",
            "explanation": "Links in billing emails are valid for 7 days. Open the billing "
                           "page of the app you use for a fresh one.",
        }, status=410)
    except LinkInvalid:
        return link_problem(request, expired=False)
    scope = Scope(target.merchant_id, target.environment)
    if not Customer.objects.for_scope(scope).active().filter(pk=target.object_id).exists():
        return link_problem(request, expired=False)
    session = make_token(LinkTarget("portal", target.object_id, target.merchant_id,
                                    target.environment))
    return HttpResponseRedirect(reverse("portal-home", args=[session]))


@require_POST
@portal_link
def portal_card_update(request, token: str, *, scope: Scope, customer: Customer):
    """Start replacing the customer's card: our hosted card page, which returns here."""
    checkout = card_update_checkout_create(
        scope=scope, customer=customer,
        return_url=absolute_url(reverse("portal-home", args=[token])))
    return HttpResponseRedirect(checkout.url)


@require_GET
def merchant_logo(request, merchant_id: str, digest: str):
    """The merchant's uploaded logo. The URL names the file's digest, so it can be cached for
    good; an old digest is 404."""
    identity = InvoiceIdentity.objects.filter(merchant_id=merchant_id, logo_digest=digest
                                              ).exclude(logo_digest="").first()
    if identity is None:
        raise Http404("No such logo")
    response = HttpResponse(bytes(identity.logo), content_type=identity.logo_content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
