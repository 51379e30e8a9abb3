from django.db import migrations, models

BATCH = 500


def render_existing(apps, schema_editor):
    """Render the stored answers once, so reads never have to."""
    from generation.markdown import render_markdown

    Generation = apps.get_model("generation", "Generation")
    db = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(
            Generation.objects.using(db)
            .filter(pk__gt=last)
            .exclude(text="")
            .order_by("pk")
            .values_list("pk", "text")[:BATCH]
        )
        if not rows:
            return
        for pk, text in rows:
            Generation.objects.using(db).filter(pk=pk).update(html=render_markdown(text))
        last = rows[-1][0]


class Migration(migrations.Migration):
    """Generations keep their answer as sanitized HTML, rendered when the answer is saved."""

    dependencies = [
        ("generation", "0002_providermodel_moved_error_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="html",
            field=models.TextField(blank=True, default="", help_text="the text rendered from markdown and sanitized"),
        ),
        migrations.RunPython(render_existing, migrations.RunPython.noop),
    ]
