"""`flush` as the tables' owner: emptying tables (TRUNCATE) is not the application role's right.
The test run's flush between tests that commit comes through here (docs/deployment.md)."""

from django.core.management.commands.flush import Command as DjangoFlush

from cynco.owner_role import as_owner


class Command(DjangoFlush):
    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
