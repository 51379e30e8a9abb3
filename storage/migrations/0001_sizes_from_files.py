"""Sizes of files stored before every row carried its own (storage.quota sums these
columns): read from the files in storage for rows whose size column is still 0. Rows
whose file is gone keep 0."""

from django.core.files.storage import default_storage
from django.db import migrations


def _size(name: str) -> int:
    if not name:
        return 0
    try:
        return default_storage.size(name)
    except (OSError, NotImplementedError):
        return 0


def fill_sizes(apps, schema_editor):
    GeneratedImage = apps.get_model("generation", "GeneratedImage")
    VideoJob = apps.get_model("videos", "VideoJob")
    for pk, name in GeneratedImage.objects.filter(size_bytes=0).exclude(file="").values_list("pk", "file"):
        if size := _size(name):
            GeneratedImage.objects.filter(pk=pk).update(size_bytes=size)
    for pk, name in VideoJob.objects.filter(video_bytes=0).exclude(video_file="").values_list("pk", "video_file"):
        if size := _size(name):
            VideoJob.objects.filter(pk=pk).update(video_bytes=size)
    rows = VideoJob.objects.filter(source_image_bytes=0).exclude(source_image_file="")
    for pk, name in rows.values_list("pk", "source_image_file"):
        if size := _size(name):
            VideoJob.objects.filter(pk=pk).update(source_image_bytes=size)


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0007_generation_conversation"),
        ("videos", "0004_source_image_bytes"),
    ]

    operations = [migrations.RunPython(fill_sizes, migrations.RunPython.noop)]
