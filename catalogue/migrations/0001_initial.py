import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """ProviderModel moved here from generation; its table (provider_models) was created
    by generation's first migration and stays as it is."""

    initial = True

    dependencies = [
        ("generation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ProviderModel",
                    fields=[
                        ("id", models.CharField(max_length=200, primary_key=True, serialize=False)),
                        ("name", models.CharField(blank=True, default="", max_length=300)),
                        ("description", models.TextField(blank=True, default="")),
                        ("kinds", models.JSONField(default=list, help_text="text, image and/or video")),
                        ("is_text", models.BooleanField(default=False)),
                        ("is_image", models.BooleanField(default=False)),
                        ("is_video", models.BooleanField(default=False)),
                        ("input_modalities", models.JSONField(default=list)),
                        ("output_modalities", models.JSONField(default=list)),
                        (
                            "image_route",
                            models.CharField(
                                blank=True,
                                default="",
                                help_text='"chat" (text+image models) or "images" (image-only)',
                                max_length=10,
                            ),
                        ),
                        ("aspect_ratios", models.JSONField(default=list)),
                        (
                            "resolutions",
                            models.JSONField(default=list, help_text="1K/2K/4K for images, 720p/1080p for videos"),
                        ),
                        ("sizes", models.JSONField(default=list)),
                        ("durations", models.JSONField(default=list)),
                        ("frame_images", models.JSONField(default=list)),
                        ("max_n", models.PositiveIntegerField(blank=True, null=True)),
                        ("generate_audio", models.BooleanField(blank=True, null=True)),
                        ("context_length", models.PositiveIntegerField(blank=True, null=True)),
                        ("pricing", models.JSONField(default=dict)),
                        ("available", models.BooleanField(default=True)),
                        ("first_seen", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_seen", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "provider_models",
                        "ordering": ["id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
