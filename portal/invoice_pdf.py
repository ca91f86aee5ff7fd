"""An invoice as a PDF: the printable invoice page itself (checkout_pages.invoice_page, so the
PDF matches what the browser prints), laid out by WeasyPrint with its print styles.

WeasyPrint draws text with Pango (Debian's libpango-1.0-0, which `make` and `.ci/run` install
when missing). It may load only our own static files: any other URL in the page is refused, so
rendering a PDF never makes the server fetch from the network."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from billing.models import Invoice
from cynco.links import read_token
from portal.checkout_pages import invoice_page


def static_only(url: str) -> dict:
    """What a URL in the page is when rendering a PDF: one of our static files, read from disk
    ({"string": bytes, "mime_type": …}); anything else is a ValueError."""
    marker = "/" + settings.STATIC_URL.strip("/") + "/"
    if marker not in url:
        raise ValueError(f"not loaded while rendering a PDF: {url}")
    found = finders.find(url.split(marker, 1)[1].split("?")[0])
    if not found:
        raise ValueError(f"no such static file: {url}")
    return {"string": Path(found).read_bytes(),
            "mime_type": mimetypes.guess_type(found)[0] or "application/octet-stream"}


class StaticFilesOnly(URLFetcher):
    """WeasyPrint's fetcher, loading static_only's files and nothing else."""

    def fetch(self, url, headers=None):
        found = static_only(url)
        return URLFetcherResponse(url, body=found["string"],
                                  headers={"Content-Type": found["mime_type"]})


def invoice_pdf(request, token: str):
    """The invoice behind the signed link as `<number>.pdf`; a bad or expired link answers the
    same page (and status) as the printable invoice."""
    page = invoice_page(request, token)
    if page.status_code != 200:
        return page
    pdf = HTML(string=page.content.decode(), base_url=request.build_absolute_uri("/"),
               url_fetcher=StaticFilesOnly()).write_pdf()
    target = read_token("invoice", token)  # the page above checked it
    number = Invoice.objects.filter(pk=target.object_id).values_list("number", flat=True).first()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{number or "invoice"}.pdf"'
    return response
