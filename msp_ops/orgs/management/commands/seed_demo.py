from django.core.management.base import BaseCommand

from msp_ops.orgs.demo.seed import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Creates (or refreshes) the demo organization with realistic data and prints its logins."

    def handle(self, *args, **options):
        result = seed_demo()
        self.stdout.write(result.summary)
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in result.logins:
            self.stdout.write(f"  {username:<10} {role}")
