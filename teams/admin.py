from django.contrib import admin

from teams.models import Membership, Team
from teams.services import _changed


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "team"
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("added_at", "added_by")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "daily_budget_usd", "monthly_budget_usd", "member_count", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("limited_models",)
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = (MembershipInline,)

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        return team.memberships.count()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _changed("updated" if change else "created", team=obj, by=request.user, via="django admin")

    def save_formset(self, request, form, formset, change):
        for membership in formset.save(commit=False):
            if membership.pk is None:
                membership.added_by = request.user
            membership.save()
            _changed("member added", team=form.instance, by=request.user, user_id=membership.user_id)
        for membership in formset.deleted_objects:
            membership.delete()
            _changed("member removed", team=form.instance, by=request.user, user_id=membership.user_id)
        formset.save_m2m()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _changed("deleted", team=obj, by=request.user, via="django admin")
