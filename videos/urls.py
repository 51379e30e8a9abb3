from django.urls import path

from videos import api, views

app_name = "videos"

# Web pages (included at the site root).
urlpatterns = [
    path("generate/video", views.video_generate, name="generate"),
    path("generate/video/<int:pk>", views.video_job_page, name="job"),
    path("generate/video/<int:pk>/cancel", views.video_cancel, name="cancel"),
    path("generate/video/<int:pk>/delete", views.video_delete, name="delete"),
    path("generate/video/<int:pk>/file", api.VideoFileView.as_view(), name="file"),
    path("gallery", views.gallery, name="gallery"),
]

# REST API (included under /api/ with the "videos-api" namespace).
api_urlpatterns = [
    path("generate/video", api.VideoCreateApi.as_view(), name="create"),
    path("generate/video/from-image", api.VideoFromImageApi.as_view(), name="create-from-image"),
    path("generate/video/events", api.VideoEventsApi.as_view(), name="events"),
    path("generate/video/<int:pk>", api.VideoDeleteApi.as_view(), name="delete"),
    path("generate/video/<int:pk>/status", api.VideoStatusApi.as_view(), name="status"),
    path("generate/video/<int:pk>/events", api.VideoJobEventsApi.as_view(), name="job-events"),
    path("generate/video/<int:pk>/cancel", api.VideoCancelApi.as_view(), name="cancel"),
    path("generate/videos", api.VideoListApi.as_view(), name="list"),
]
