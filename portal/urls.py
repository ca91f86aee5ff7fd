"""Customer-facing pages: portal and hosted checkout (server-rendered, signed links)."""

from django.urls import path

from portal import views

urlpatterns = [
    path("portal/<str:token>", views.portal_home, name="portal-home"),
]
