from django.db import migrations, models


class Migration(migrations.Migration):
    """ProviderModel lives in the catalogue app now (same table); failures keep their kind
    instead of an HTTP status."""

    dependencies = [
        ("generation", "0001_initial"),
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ProviderModel")],
            database_operations=[],
        ),
        migrations.RemoveField(model_name="generation", name="http_status"),
        migrations.AddField(
            model_name="generation",
            name="error_kind",
            field=models.CharField(
                blank=True,
                default="",
                max_length=30,
                choices=[
                    ("invalid", "invalid"),
                    ("unauthenticated", "unauthenticated"),
                    ("forbidden", "forbidden"),
                    ("not_found", "not_found"),
                    ("conflict", "conflict"),
                    ("rate_limited", "rate_limited"),
                    ("unavailable", "unavailable"),
                    ("failed", "failed"),
                    ("provider_refused", "provider_refused"),
                    ("provider_rate_limited", "provider_rate_limited"),
                    ("provider_account", "provider_account"),
                    ("provider_timeout", "provider_timeout"),
                    ("provider_failed", "provider_failed"),
                ],
                help_text="what went wrong, for a failed generation",
            ),
        ),
    ]
