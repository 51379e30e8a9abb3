"""Django admin: each user's budget overrides (the same values as the limits API and the
admin panel edit) and the reservation ledger (read-only)."""

from django.contrib import admin

from billing.models import Reservation, UserBudget


@admin.register(UserBudget)
class UserBudgetAdmin(admin.ModelAdmin):
    list_display = ("user", "daily_budget_usd", "monthly_budget_usd", "updated_at")
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)
    fields = ("user", "daily_budget_usd", "monthly_budget_usd")

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def save_model(self, request, obj, form, change):
        from billing import services

        if change:
            services.limits_update(
                user=obj.user, daily_budget_usd=obj.daily_budget_usd, monthly_budget_usd=obj.monthly_budget_usd
            )
        else:
            super().save_model(request, obj, form, change)


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "kind",
        "model",
        "amount_reserved",
        "amount_settled",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("user__email", "model")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
