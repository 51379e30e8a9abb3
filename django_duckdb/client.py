from django.db.backends.base.client import BaseDatabaseClient


class DatabaseClient(BaseDatabaseClient):
    """`manage.py dbshell` runs the duckdb command-line client, if installed."""

    executable_name = "duckdb"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        args = [cls.executable_name, str(settings_dict["NAME"]), *parameters]
        return args, None
