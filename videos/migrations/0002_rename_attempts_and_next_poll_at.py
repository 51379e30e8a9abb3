from django.db import migrations, models


class Migration(migrations.Migration):
    """``attempts`` counts consecutive provider failures; ``next_poll_at`` also schedules
    submits: both renamed for what they hold. The index on ``next_poll_at`` goes first and
    comes back on the new name (DuckDB cannot rename an indexed column in place)."""

    dependencies = [
        ("videos", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="videojob",
            name="video_status_due",
        ),
        migrations.RenameField(
            model_name="videojob",
            old_name="attempts",
            new_name="consecutive_failures",
        ),
        migrations.RenameField(
            model_name="videojob",
            old_name="next_poll_at",
            new_name="next_action_at",
        ),
        migrations.AddIndex(
            model_name="videojob",
            index=models.Index(fields=["status", "next_action_at"], name="video_status_due"),
        ),
    ]
