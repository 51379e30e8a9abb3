import pytest
from django.core.management import call_command

from tests.conftest import run_manage


@pytest.mark.django_db
def test_makemigrations_check_is_clean():
    # Raises SystemExit(1) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_migrations_apply_from_scratch(fresh_store_env):
    result = run_manage("migrate", "--noinput", env=fresh_store_env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = run_manage("showmigrations", "--plan", env=fresh_store_env)
    assert shown.returncode == 0, shown.stderr
    plan = shown.stdout.splitlines()
    assert plan and all(line.startswith("[X]") for line in plan), shown.stdout


def test_check_deploy_is_clean_with_production_values(tmp_path):
    env = {
        "DATA_DIR": str(tmp_path),
        "DEBUG": "false",
        "HTTPS": "true",
        "SECRET_KEY": "x7!k2@pQ9#zL4$wR8^tY1&uI5*oP0(aS3)dF6_gH-jK+lZ=cV" * 2,
        "ALLOWED_HOSTS": "studio.example.com",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_generated_once_into_data_dir(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "SECRET_KEY": ""}
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage("shell", "-c", script, env=env)
    second = run_manage("shell", "-c", script, env=env)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50 and key == second.stdout.strip().splitlines()[-1]
    assert (tmp_path / "secret_key").read_text().strip() == key
