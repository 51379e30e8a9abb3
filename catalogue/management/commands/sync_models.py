from django.core.management.base import BaseCommand, CommandError

from catalogue import selectors, services
from core.errors import DomainError
from openrouter.errors import ProviderError


class Command(BaseCommand):
    help = (
        "Fill the model catalogue (ProviderModel) from the provider's /models, /images/models "
        "and /videos/models. Safe to run again: models gone from the provider are marked "
        "unavailable, not deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="only sync when the catalogue table is empty (start-up)"
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and not selectors.catalogue_is_empty():
            self.stdout.write("Model catalogue already filled; nothing to do.")
            return
        try:
            result = services.catalogue_sync()
        except (ProviderError, DomainError) as exc:
            raise CommandError(f"Model catalogue sync failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Model catalogue synced: {result}."))
