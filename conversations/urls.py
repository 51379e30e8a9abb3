from django.urls import path

from conversations import api, views

app_name = "conversations"

# Web pages (included at the site root).
urlpatterns = [
    path("conversations", views.conversations_page, name="list"),
    path("conversations/new", views.conversation_new_page, name="new"),
    path("conversations/<int:pk>", views.conversation_page, name="detail"),
    path("conversations/<int:pk>/rename", views.conversation_rename_page, name="rename"),
    path("conversations/<int:pk>/delete", views.conversation_delete_page, name="delete"),
    path("conversations/<int:pk>/share", views.conversation_share_page, name="share"),
    path("conversations/<int:pk>/unshare", views.conversation_unshare_page, name="unshare"),
    path("shared/<str:token>", views.shared_conversation_page, name="shared"),
    *(
        path(
            f"conversations/<int:pk>/export/{kind}",
            views.conversation_export_page,
            {"kind": kind},
            name=f"export-{kind}",
        )
        for kind in ("markdown", "json")
    ),
]

# REST API (included under /api/ with the "conversations-api" namespace).
api_urlpatterns = [
    path("conversations", api.ConversationListApi.as_view(), name="conversations"),
    path("conversations/<int:pk>", api.ConversationDetailApi.as_view(), name="conversation"),
    path("conversations/<int:pk>/messages", api.MessageCreateApi.as_view(), name="messages"),
    path(
        "conversations/<int:pk>/messages/<int:message_pk>/regenerate",
        api.MessageRegenerateApi.as_view(),
        name="regenerate",
    ),
    path("conversations/<int:pk>/share", api.ConversationShareApi.as_view(), name="share"),
    path("conversations/<int:pk>/messages/<int:message_pk>/edit", api.MessageEditApi.as_view(), name="edit"),
    path("conversations/<int:pk>/export/markdown", api.ConversationMarkdownApi.as_view(), name="export-markdown"),
    path("conversations/<int:pk>/export/json", api.ConversationJsonApi.as_view(), name="export-json"),
]
