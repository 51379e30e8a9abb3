"""Before answers stop copying their history row (0004 drops the copies): an answer
whose row is gone (deleted from the history) gets a row again, holding what the
answer showed, so that no answer's text is lost. Answers with a row need nothing: the
row holds the same answer, or a later state of it (a message left pending whose row
ended, which reads were settling)."""

from django.db import migrations

ANSWER_LOST = "The answer was lost (its history row was deleted while it ran)."


def keep_orphaned_answers(apps, schema_editor):
    Message = apps.get_model("conversations", "Message")
    Generation = apps.get_model("generation", "Generation")
    db = schema_editor.connection.alias
    existing = set(Generation.objects.using(db).values_list("pk", flat=True))
    answers = Message.objects.using(db).filter(role="assistant").select_related("conversation").order_by("id")
    for answer in answers:
        if answer.generation_id is not None and answer.generation_id in existing:
            continue
        asked = (
            Message.objects.using(db)
            .filter(conversation_id=answer.conversation_id, role="user", id__lt=answer.id)
            .order_by("-id")
            .values_list("content", flat=True)
            .first()
        )
        pending = answer.status == "pending"
        row = Generation.objects.using(db).create(
            owner_id=answer.conversation.owner_id,
            kind="text",
            model_id=answer.model_id,
            prompt=asked or "",
            params={"conversation": answer.conversation_id, "kept_from_message": answer.pk},
            status="failed" if pending else answer.status,
            text=answer.content,
            html=answer.html,
            error=ANSWER_LOST if pending else answer.error,
            error_kind="failed" if pending else answer.error_kind,
            finish_reason=answer.finish_reason,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            total_tokens=answer.total_tokens,
            cost=answer.cost,
            created_at=answer.created_at,
            finished_at=answer.finished_at or answer.created_at,
            conversation_id=answer.conversation_id,
        )
        Message.objects.using(db).filter(pk=answer.pk).update(generation_id=row.pk)


def copy_answers_back(apps, schema_editor):
    """Going back: the answers copy their rows again (0004 reversed re-added the fields)."""
    Message = apps.get_model("conversations", "Message")
    db = schema_editor.connection.alias
    for answer in (
        Message.objects.using(db).filter(role="assistant", generation__isnull=False).select_related("generation")
    ):
        row = answer.generation
        Message.objects.using(db).filter(pk=answer.pk).update(
            content=row.text,
            html=row.html,
            model_id=row.model_id,
            status=row.status,
            error=row.error,
            error_kind=row.error_kind,
            finish_reason=row.finish_reason,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            total_tokens=row.total_tokens,
            cost=row.cost,
            finished_at=row.finished_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_alter_message_error_kind"),
        ("generation", "0007_generation_conversation"),
    ]

    operations = [
        migrations.RunPython(keep_orphaned_answers, copy_answers_back),
    ]
