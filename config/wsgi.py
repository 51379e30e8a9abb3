import os

from config import startup
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
startup.prepare()
application = get_wsgi_application()
