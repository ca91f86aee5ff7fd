"""Response shapes of /api/v1/pay/ for the OpenAPI document (cynco.api.schema).

These serializers describe what the views' `*_data` functions build; they never render
anything. tests/cynco/test_openapi.py checks real answers against them, so a field added to a
`*_data` function and not here fails a test. Class names end in `Shape`, which the document
drops (`InvoiceShape` is the component `Invoice`).
"""
