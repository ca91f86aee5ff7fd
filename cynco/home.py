"""The site's root page: staff go to the operator console, everyone else reads what this
server is and where its pages are."""

from django.shortcuts import redirect
from django.template.response import TemplateResponse


def site_home(request):
    if request.user.is_active and request.user.is_staff:
        return redirect("admin:index")
    return TemplateResponse(request, "home.html", {})
