import os

from config import startup
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
startup.prepare()
application = get_asgi_application()
