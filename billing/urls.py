from django.urls import path

from billing import api, views

app_name = "billing"

# Web pages (included under /admin-panel/).
urlpatterns = [
    path("users/<int:user_id>/limits", views.user_limits, name="user-limits"),
]

# REST API (included under /api/ with the "billing-api" namespace).
api_urlpatterns = [
    path("users/<int:user_id>/limits", api.UserLimitsApi.as_view(), name="user-limits"),
]
