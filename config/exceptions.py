"""One place where domain and provider errors become HTTP answers (DESIGN.md's table)."""
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    return exception_handler(exc, context)
