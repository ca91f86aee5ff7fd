"""Customer-facing pages: portal and hosted checkout (server-rendered, signed links)."""

urlpatterns: list = []
