from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from msp_ops.orgs.commands import validation_error_text
from msp_ops.orgs.models import Organization
from msp_ops.orgs.services import create_organization


class Command(BaseCommand):
    help = "Creates an organization (one MSP) with the default time-entry categories."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="UTC", help="IANA name, e.g. America/Chicago")
        parser.add_argument("--managed-clients", type=int, default=0)

    def handle(self, *args, slug: str, name: str, timezone: str, managed_clients: int, **options):
        if managed_clients < 0:
            raise CommandError("--managed-clients must be 0 or more.")
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"An organization with slug '{slug}' already exists.")
        try:
            org = create_organization(
                slug=slug, name=name, timezone_name=timezone, managed_clients=managed_clients
            )
        except ValidationError as error:
            raise CommandError(validation_error_text(error)) from None
        self.stdout.write(f"Created organization '{org.slug}' ({org.name}, {org.timezone}).")
