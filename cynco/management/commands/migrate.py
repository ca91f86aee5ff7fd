"""`migrate` as the tables' owner (settings.DATABASE_OWNER, from MIGRATION_DATABASE_URL), then
the application role's rights on the tables it made (docs/deployment.md)."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from cynco.owner_role import as_owner, grant_to_application


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Runs as the owner role; grants the application role its rights."

    def handle(self, *args, **options):
        alias = options["database"]
        with as_owner(alias):
            result = super().handle(*args, **options)
            grant_to_application(alias)
        return result
