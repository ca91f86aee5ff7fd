"""An invoice as a PDF (WeasyPrint, from the printable page): downloadable from the invoice page
and the portal, with the invoice's number and amounts in it; a bad link gets the page's answer,
and rendering fetches nothing but our own static files."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from portal.invoice_pdf import static_only
from tests.billing.subscribing import customer, invoices, main_catalog, subscribe_paid
from tests.portal.test_portal_actions import BASE, portal_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_invoice(api):
    main_catalog(api)
    customer(api, "jane")
    subscribe_paid(api, "pro", "jane")
    [invoice] = invoices(api, "jane")
    return invoice


def test_the_invoice_downloads_as_a_pdf_matching_the_printable_page(api, paid_invoice):
    page_path = paid_invoice["hostedUrl"].removeprefix(BASE)
    browser = Client()
    page = browser.get(page_path).content.decode()
    assert f'href="{page_path}/pdf"' in page and "Download PDF" in page
    response = browser.get(f"{page_path}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{paid_invoice["number"]}.pdf"')
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert f"Invoice {paid_invoice['number']}" in text
    assert "Total" in text and "MYR 20.00" in text and "Amount due" in text
    assert "Download PDF" not in text and "Print" not in text  # print styles hide buttons


def test_the_portal_links_each_invoice_pdf(api, paid_invoice):
    page = Client().get(portal_path(api)).content.decode().replace("&amp;", "&")
    assert paid_invoice["hostedUrl"].removeprefix(BASE) + "/pdf" in page


def test_a_bad_link_gets_the_invoice_pages_answer_not_a_pdf(paid_invoice):
    response = Client().get("/invoices/not-a-token/pdf")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_rendering_loads_only_our_static_files():
    assert static_only("http://testserver/static/cynco/pages.css")["mime_type"] == "text/css"
    for url in ("http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                "http://testserver/static/no-such-file.css"):
        with pytest.raises(ValueError):
            static_only(url)
