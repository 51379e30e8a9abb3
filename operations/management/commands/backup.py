"""manage.py backup [DEST] | backup --verify SRC: see operations/backup.py."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations import backup


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database and the media folder into a new folder under DEST "
        "(default BACKUP_DIR) while Studio keeps running; or, with --verify SRC, check a backup "
        "(hashes, and the rows of every table read from the snapshot) without restoring it."
    )

    def add_arguments(self, parser):
        parser.add_argument("dest", nargs="?", help="the folder of backups (default: BACKUP_DIR)")
        parser.add_argument("--verify", metavar="SRC", help="check this backup (or the newest in this folder)")
        parser.add_argument("--keep", type=int, default=None, help="then keep only the newest N backups in DEST")

    def handle(self, *args, dest=None, verify=None, keep=None, **options):
        try:
            if verify:
                report = backup.backup_verify(path=verify)
                if not report.ok:
                    raise CommandError(f"{report.path} does not verify:\n  " + "\n  ".join(report.problems))
                rows = sum(report.tables.values())
                self.stdout.write(
                    f"{report.path} verifies: {len(report.tables)} tables, {rows} rows, {report.files} media files."
                )
                return
            path = backup.backup_create(dest_dir=dest or settings.BACKUP_DIR, keep=keep)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
