from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login", auth_views.LoginView.as_view(template_name="accounts/login.html",
                                              redirect_authenticated_user=True), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
]

# The dashboard lives at the site root, outside the namespace.
root_urlpatterns = [path("", views.dashboard, name="dashboard")]
