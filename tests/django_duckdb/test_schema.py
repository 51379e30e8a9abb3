"""
Migrations DuckDB can't do in place (its ALTER TABLE refuses most changes to
a table with an index): the schema editor rebuilds the table, keeping rows,
indexes and the primary key sequence.
"""

import decimal

import pytest
from django.db import DataError, IntegrityError, connection, migrations, models, transaction
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState
from django.db.models.functions import Upper

from .conftest import duckdb_only

pytestmark = [duckdb_only, pytest.mark.django_db(transaction=True)]

APP = "duckschema"


def apply(state, *operations):
    migration = Migration("step", APP)
    migration.operations = list(operations)
    with connection.schema_editor() as editor:
        return migration.apply(state, editor)


def columns(table):
    with connection.cursor() as cursor:
        return {c.name: c for c in connection.introspection.get_table_description(cursor, table)}


def indexes(table):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {tuple(c["columns"]) for c in constraints.values() if c["index"]}


@pytest.fixture
def pony_state():
    state = apply(
        ProjectState(),
        migrations.CreateModel(
            "Pony",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=20, db_index=True)),
                ("weight", models.FloatField()),
            ],
        ),
    )
    Pony = state.apps.get_model(APP, "Pony")
    Pony.objects.bulk_create([Pony(name=f"p{i}", weight=i + 0.5) for i in range(5)])
    yield state
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith(APP):
                cursor.execute(f'DROP TABLE "{table}"')
        cursor.execute(
            "SELECT sequence_name FROM duckdb_sequences() WHERE sequence_name LIKE %s",
            [APP + "%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP SEQUENCE "{name}"')


def test_every_kind_of_change_keeps_rows_indexes_and_ids(pony_state):
    state = pony_state
    table = f"{APP}_pony"

    # A column on a table with an index (rebuild), with a default for old rows.
    state = apply(state, migrations.AddField("Pony", "color", models.CharField(max_length=10, default="red")))
    assert {"id", "name", "weight", "color"} <= set(columns(table))
    assert ("name",) in indexes(table)

    # Rename an indexed column, change a column's type.
    state = apply(state, migrations.RenameField("Pony", "name", "title"))
    state = apply(
        state,
        migrations.AlterField("Pony", "weight", models.DecimalField(max_digits=8, decimal_places=2)),
    )
    assert ("title",) in indexes(table)

    # A check constraint, a unique constraint and an index.
    state = apply(
        state,
        migrations.AddConstraint(
            "Pony",
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="pony_weight_gte_0"),
        ),
        migrations.AddConstraint("Pony", models.UniqueConstraint(fields=["title"], name="pony_title_uniq")),
        migrations.AddIndex("Pony", models.Index(fields=["color"], name="pony_color_idx")),
    )
    assert ("color",) in indexes(table)

    # Drop a column that carries an index, make one nullable.
    state = apply(
        state,
        migrations.RemoveIndex("Pony", "pony_color_idx"),
        migrations.RemoveField("Pony", "color"),
        migrations.AlterField("Pony", "title", models.CharField(max_length=30, null=True)),
    )
    assert "color" not in columns(table)
    assert columns(table)["title"].null_ok

    # Rename the table (indexes and sequences follow).
    state = apply(state, migrations.RenameModel("Pony", "Horse"))
    Horse = state.apps.get_model(APP, "Horse")
    rows = list(Horse.objects.order_by("id").values_list("id", "title", "weight"))
    assert rows == [(i + 1, f"p{i}", decimal.Decimal(f"{i}.50")) for i in range(5)]
    assert Horse.objects.create(title="new", weight=1).id == 6
    with pytest.raises(IntegrityError), transaction.atomic():
        Horse.objects.create(title="negative", weight=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Horse.objects.create(title="new", weight=2)


def test_a_failed_migration_rolls_back(pony_state):
    """DDL is transactional: a failing migration leaves the schema as it was."""
    before = columns(f"{APP}_pony")
    with pytest.raises(IntegrityError):
        apply(
            pony_state,
            migrations.AddField("Pony", "code", models.CharField(max_length=5, default="x")),
            migrations.AlterField("Pony", "code", models.CharField(max_length=5, default="x", unique=True)),
        )
    assert columns(f"{APP}_pony").keys() == before.keys()


def test_a_rebuild_keeps_indexes_the_model_does_not_declare(pony_state):
    """An index made by RunSQL survives table rebuilds and follows renames."""
    table = f"{APP}_pony"
    state = apply(
        pony_state,
        migrations.RunSQL(f'CREATE INDEX pony_weight_raw ON "{table}" ("weight")'),
    )
    state = apply(state, migrations.RenameField("Pony", "weight", "mass"))
    state = apply(state, migrations.AddField("Pony", "age", models.IntegerField(default=1)))
    assert ("mass",) in indexes(table)
    state = apply(state, migrations.RemoveField("Pony", "mass"))
    assert not any("mass" in columns_ for columns_ in indexes(table))


def checks(table):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: c for name, c in constraints.items() if c["check"]}


def test_check_constraints_keep_their_names(pony_state):
    """
    DuckDB names every CHECK constraint "<table>_<columns>_check"; the schema
    editor keeps Django's name inside the expression and introspection reads
    it back, so a named constraint can be found, and removed, by its name.
    """
    table = f"{APP}_pony"
    state = apply(
        pony_state,
        migrations.AddConstraint(
            "Pony",
            models.CheckConstraint(
                condition=models.Q(weight__gte=0) & models.Q(name__startswith="p"),
                name="pony's_sane",
            ),
        ),
        migrations.AddConstraint(
            "Pony",
            models.CheckConstraint(condition=models.Q(weight__lt=100), name="pony_light"),
        ),
    )
    found = checks(table)
    assert {"pony's_sane", "pony_light"} <= found.keys()
    assert set(found["pony's_sane"]["columns"]) == {"name", "weight"}
    assert "!= ''" not in found["pony_light"]["definition"]
    assert "weight" in found["pony_light"]["definition"]
    Pony = state.apps.get_model(APP, "Pony")
    # The marker is always true: the condition alone decides, NULLs included.
    Pony.objects.create(name="p9", weight=1)
    with pytest.raises(IntegrityError):
        Pony.objects.create(name="p9", weight=-1)
    with pytest.raises(IntegrityError):
        Pony.objects.create(name="q9", weight=1)
    state = apply(state, migrations.RemoveConstraint("Pony", "pony_light"))
    assert "pony_light" not in checks(table)
    assert "pony's_sane" in checks(table)
    Pony.objects.create(name="p10", weight=500)
    assert Pony.objects.count() == 7


def test_unnamed_check_keeps_duckdbs_name():
    from django_duckdb.introspection import named_check

    assert named_check("(a > 0)") == (None, "(a > 0)")
    assert named_check("(('it''s' != '') AND (a > 0) AND (b < 3))") == (
        "it's",
        "((a > 0) AND (b < 3))",
    )


def test_char_lengths_are_enforced_introspected_and_altered(pony_state):
    """
    DuckDB's VARCHAR keeps no length: a CHECK stands in for VARCHAR(n). It is
    enforced (a DataError, as on PostgreSQL), introspected as max_length, not
    listed as a constraint of its own, and follows max_length changes.
    """
    table = f"{APP}_pony"
    Pony = pony_state.apps.get_model(APP, "Pony")
    assert columns(table)["name"].internal_size == 20
    assert not any("length" in (c["definition"] or "") for c in checks(table).values())
    Pony.objects.create(name="é" * 20, weight=1)  # characters, not bytes
    with pytest.raises(DataError, match=r"name: at most 20 characters"):
        with transaction.atomic():
            Pony.objects.create(name="x" * 21, weight=1)

    state = apply(
        pony_state,
        migrations.AlterField("Pony", "name", models.CharField(max_length=40)),
        migrations.AddField("Pony", "notes", models.TextField(default="")),
        migrations.AddField("Pony", "anything", models.CharField(null=True)),
    )
    described = columns(table)
    assert described["name"].internal_size == 40
    assert described["notes"].internal_size is None
    field_type = connection.introspection.get_field_type
    assert field_type(described["name"].type_code, described["name"]) == "CharField"
    assert field_type(described["notes"].type_code, described["notes"]) == "TextField"
    Pony = state.apps.get_model(APP, "Pony")
    Pony.objects.create(name="x" * 40, weight=1, notes="n" * 10_000, anything="a" * 500)
    assert Pony.objects.count() == 7


def test_generated_char_column_takes_no_length_check(pony_state):
    state = apply(
        pony_state,
        migrations.AddField(
            "Pony",
            "shout",
            models.GeneratedField(
                expression=Upper("name"),
                output_field=models.CharField(max_length=20),
                db_persist=True,
            ),
        ),
    )
    Pony = state.apps.get_model(APP, "Pony")
    assert Pony.objects.get(name="p1").shout == "P1"


def test_db_collation_nocase_compares_case_insensitively_and_can_be_changed(pony_state):
    table = f"{APP}_pony"
    state = apply(
        pony_state,
        migrations.AlterField("Pony", "name", models.CharField(max_length=20, db_collation="nocase")),
    )
    Pony = state.apps.get_model(APP, "Pony")
    Pony.objects.create(name="ANDREW", weight=1)
    assert Pony.objects.filter(name="Andrew").exists()
    assert columns(table)["name"].collation == "nocase"
    assert columns(table)["name"].internal_size == 20
    state = apply(
        state,
        migrations.AlterField("Pony", "name", models.CharField(max_length=20)),
    )
    assert not state.apps.get_model(APP, "Pony").objects.filter(name="Andrew").exists()
    assert columns(table)["name"].collation is None
