"""Routes of customers, products, plans and the pricing table."""

from django.urls import path

from billing.api.customers import CustomersView
from billing.api.plans import PlansView, PricingTableView
from billing.api.products import ProductsView, ProductVersionsView

urlpatterns = [
    path("customers", CustomersView.as_view(), name="customers"),
    path("products", ProductsView.as_view(), name="products"),
    path("products/versions", ProductVersionsView.as_view(), name="product-versions"),
    path("plans", PlansView.as_view(), name="plans"),
    path("components/pricing-table", PricingTableView.as_view(), name="pricing-table"),
]
