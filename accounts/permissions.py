from rest_framework.permissions import BasePermission


class IsAdmin(BasePermission):
    """Signed-in users whose role is admin (the role is read from the database on every
    request, not from the token's claim, so a demotion takes effect at once)."""

    message = "Only administrators may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_admin)
