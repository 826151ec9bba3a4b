from django.core.management.base import BaseCommand, CommandParser

from msp_ops.orgs.commands import membership_or_error
from msp_ops.orgs.services import issue_api_token


class Command(BaseCommand):
    help = "Creates an API token for a member; the key is printed once, as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--name", default="API token")

    def handle(self, *args, username: str, org: str, name: str, **options):
        membership = membership_or_error(org_slug=org, username=username)
        issued = issue_api_token(membership=membership, name=name)
        self.stdout.write(
            f"Token '{issued.token.name}' for {username} in {org}. Store the key now; it is shown once:"
        )
        self.stdout.write(issued.key)
