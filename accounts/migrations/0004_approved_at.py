import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def approve_existing(apps, schema_editor):
    """Every account that exists already was let in when it joined."""
    User = apps.get_model("accounts", "User")
    User.objects.update(approved_at=F("date_joined"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_token_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="approved_at",
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True),
        ),
        migrations.RunPython(approve_existing, migrations.RunPython.noop),
    ]
