"""`manage.py migrate_product_version <merchant> <environment> <product> <version>`: move the
subscribers of one product version to the product's latest version, printing each batch."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.selectors.catalog import product_find, product_version_find
from billing.services.product_versions import DEFAULT_BATCH_SIZE, product_version_migrate
from cynco.errors import NotFound
from cynco.tenancy import Scope


class Command(BaseCommand):
    help = "Move a product version's subscribers to the product's latest version, in batches."

    def add_arguments(self, parser):
        parser.add_argument("merchant_id")
        parser.add_argument("environment", choices=["live", "test"])
        parser.add_argument("product", help="the product's id or slug")
        parser.add_argument("version_id", help="the version to move subscribers away from")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, merchant_id, environment, product, version_id, batch_size, **opts):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        scope = Scope(merchant_id, environment)
        try:
            found = product_find(scope, product)
            version = product_version_find(found, version_id)
        except NotFound as exc:
            raise CommandError(exc.message) from exc
        target = found.latest_version
        self.stdout.write(
            f"Moving subscribers of {found.slug} v{version.version} to v{target.version}"
        )

        def progress(batch: int, moved: int) -> None:
            self.stdout.write(f"  batch {batch}: {moved} moved so far")

        moved = product_version_migrate(
            scope=scope, product=found, version=version, batch_size=batch_size,
            on_batch=progress,
        )
        self.stdout.write(self.style.SUCCESS(f"Done: {moved} subscription(s) moved"))
