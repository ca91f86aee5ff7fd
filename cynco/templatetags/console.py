"""`{% load console %}`: what the operator console's frame needs to know about a page."""

from django import template

register = template.Library()
ENVIRONMENTS = ("live", "test")


@register.simple_tag(takes_context=True)
def page_environment(context) -> str:
    """The environment a console page shows ("" when it shows both): a report's or the
    customer page's choice, the object of a change page, or a list's environment filter."""
    request = context.get("request")
    candidates = [context.get("environment"),
                  getattr(context.get("original"), "environment", None)]
    if request is not None:
        candidates += [request.GET.get("environment__exact"), request.GET.get("environment")]
    return next((value for value in candidates if value in ENVIRONMENTS), "")
