"""manage.py restore SRC [--force]: see operations/backup.py."""

from django.core.management.base import BaseCommand, CommandError

from operations import backup


class Command(BaseCommand):
    help = (
        "Restore a backup (a backup folder, or a folder of backups: the newest) into this installation's "
        "database and media folder. Refuses a database or media folder that is not empty unless --force. "
        "Stop web, worker and beat first."
    )

    def add_arguments(self, parser):
        parser.add_argument("src")
        parser.add_argument("--force", action="store_true", help="replace the data that is there")

    def handle(self, *args, src, force=False, **options):
        try:
            manifest = backup.backup_restore(path=src, force=force)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Restored {manifest['name']} ({manifest['store']}, {len(manifest['tables'])} tables, {rows} rows, "
            f"{len(manifest['media'])} media files) from {manifest['created_at']}."
        )
