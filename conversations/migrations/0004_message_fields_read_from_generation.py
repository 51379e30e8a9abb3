"""Answers read their text, state, error and usage through their history row
(Message.generation); the copies go. A migration of its own: PostgreSQL does not alter
a table in the transaction that just wrote its rows (0003)."""

from django.db import migrations, models

COPIED = (
    "html",
    "model_id",
    "status",
    "error",
    "error_kind",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "finished_at",
)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0003_answers_read_through_generations"),
    ]

    operations = [
        *(migrations.RemoveField(model_name="message", name=name) for name in COPIED),
        # Turns begun in a conversation: a turn begins only if none began since it read the thread.
        migrations.AddField(model_name="conversation", name="turns", field=models.PositiveIntegerField(default=0)),
    ]
