from django.urls import path

from teams import api, views

app_name = "teams"

# Web pages (included under /admin-panel/).
urlpatterns = [
    path("groups", views.group_list, name="list"),
    path("groups/<int:team_id>", views.group_edit, name="edit"),
    path("groups/<int:team_id>/members", views.member_add, name="member-add"),
    path("groups/<int:team_id>/members/<int:user_id>/remove", views.member_remove, name="member-remove"),
    path("groups/<int:team_id>/delete", views.group_delete, name="delete"),
]

# REST API (included under /api/ with the "teams-api" namespace).
api_urlpatterns = [
    path("groups", api.GroupsApi.as_view(), name="groups"),
    path("groups/<int:team_id>", api.GroupApi.as_view(), name="group"),
    path("groups/<int:team_id>/members", api.GroupMembersApi.as_view(), name="members"),
    path("groups/<int:team_id>/members/<int:user_id>", api.GroupMemberApi.as_view(), name="member"),
]
