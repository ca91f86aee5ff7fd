import os

from django.core.wsgi import get_wsgi_application

from cynco.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cynco.settings")
application = ChunkedBodies(get_wsgi_application())
