#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The same .env `make run` gives its processes (honcho reads it), so a command such as
    # createsuperuser opens the database the site uses (DATA_DIR, DATABASE_URL). Variables
    # already in the environment win.
    env_file = Path(__file__).resolve().parent / ".env"
    if env_file.is_file():
        import environ

        environ.Env.read_env(env_file)
    from django.core.management import execute_from_command_line

    from config import startup

    startup.prepare()

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
