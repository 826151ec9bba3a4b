import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from msp_ops.orgs.commands import organization_or_error, validation_error_text
from msp_ops.orgs.models import Role
from msp_ops.orgs.services import add_member


class Command(BaseCommand):
    help = "Adds a user to an organization with a role, creating the user if missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the organization's slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--password-env", metavar="VAR", help="read the user's password from this environment variable"
        )

    def handle(self, *args, slug: str, username: str, role: str, password_env: str | None, **options):
        org = organization_or_error(slug)
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"Environment variable {password_env} is not set or empty.")
        try:
            membership, created = add_member(org=org, username=username, role=role, password=password)
        except ValidationError as error:
            if not hasattr(error, "message_dict"):  # the password validators' verdict
                raise CommandError(
                    f"The password in {password_env} is refused: {' '.join(error.messages)}"
                ) from None
            raise CommandError(validation_error_text(error)) from None
        verb = "Created user and added" if created else "Added"
        self.stdout.write(f"{verb} '{username}' to '{org.slug}' as {membership.get_role_display()}.")
