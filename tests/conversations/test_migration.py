"""Migrations 0003/0004 (answers read through their history rows): on a store of either
kind, with rows written by the code before them, no answer's text or state is lost."""

import json

from tests.conftest import run_manage

BEFORE = """
import json
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
apps = MigrationExecutor(connection).loader.project_state([("conversations", "0002_alter_message_error_kind"),
    ("generation", "0007_generation_conversation")]).apps
User, Conversation = apps.get_model("accounts", "User"), apps.get_model("conversations", "Conversation")
Message, Generation = apps.get_model("conversations", "Message"), apps.get_model("generation", "Generation")
owner = User.objects.create(email="old@example.com", password="x")
c = Conversation.objects.create(owner=owner, model_id="fake/echo")
def row(**fields):
    return Generation.objects.create(owner=owner, kind="text", model_id="fake/echo", prompt="q", conversation=c, **fields)
def turn(asked, **answer):
    Message.objects.create(conversation=c, role="user", content=asked)
    return Message.objects.create(conversation=c, role="assistant", model_id="fake/echo", **answer).pk
ids = {
    "completed": turn("a", content="A", html="<p>A</p>", status="completed", generation=row(status="completed", text="A", html="<p>A</p>")),
    # Left pending by a stopped server; its row was failed by the sweep since.
    "ended": turn("b", status="pending", generation=row(status="failed", error="interrupted")),
    # Its row deleted from the history: the copy was all that was left.
    "orphan": turn("c", content="kept *text*", html="<p>kept <em>text</em></p>", status="completed", cost="0.5", total_tokens=9),
    "lost": turn("d", status="pending"),
}
print(json.dumps(ids))
"""

AFTER = """
import json
from conversations.models import Message
print(json.dumps({m.pk: [m.text, m.html, m.status, m.error, float(m.usage["cost"]), m.generation.prompt if m.generation else None]
    for m in Message.objects.filter(role="assistant").select_related("generation")}))
"""


def test_answers_keep_their_text_and_state_through_the_migration(fresh_store_env):
    def manage(*args):
        result = run_manage(*args, env=fresh_store_env, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""

    manage("migrate", "--noinput", "generation", "0007_generation_conversation")
    ids = json.loads(manage("shell", "-c", BEFORE))
    manage("migrate", "--noinput")
    answers = {int(pk): value for pk, value in json.loads(manage("shell", "-c", AFTER)).items()}

    assert answers[ids["completed"]] == ["A", "<p>A</p>", "completed", "", 0.0, "q"]
    assert answers[ids["ended"]][2:4] == ["failed", "interrupted"]
    text, html, status, error, cost, prompt = answers[ids["orphan"]]
    assert (text, html, status, cost, prompt) == ("kept *text*", "<p>kept <em>text</em></p>", "completed", 0.5, "c")
    assert answers[ids["lost"]][2] == "failed" and "lost" in answers[ids["lost"]][3]
