import django.db.models.deletion
from django.db import migrations, models


def link_answers(apps, schema_editor):
    """Answers recorded before the link take their message's conversation."""
    Message = apps.get_model("conversations", "Message")
    Generation = apps.get_model("generation", "Generation")
    by_conversation: dict[int, list[int]] = {}
    for conversation_id, generation_id in Message.objects.filter(generation__isnull=False).values_list(
        "conversation_id", "generation_id"
    ):
        by_conversation.setdefault(conversation_id, []).append(generation_id)
    for conversation_id, generation_ids in by_conversation.items():
        Generation.objects.filter(pk__in=generation_ids).update(conversation_id=conversation_id)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_alter_message_error_kind"),
        ("generation", "0006_generation_source_image"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="conversation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="generations",
                to="conversations.conversation",
            ),
        ),
        migrations.RunPython(link_answers, migrations.RunPython.noop),
    ]
