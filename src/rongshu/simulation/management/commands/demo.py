from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from rongshu.simulation.demo import load_demo
from rongshu.simulation.identity_demo import sign_ins


class Command(BaseCommand):
    help = "Migrate, load the demo data and serve (PORT overrides 8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="load the data and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("migrating …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("loading demo data …")
        load_demo(self.stdout.write)
        self.stdout.write("demo sign-ins:")
        for line in sign_ins():
            self.stdout.write(f"  {line}")
        if not options["no_serve"]:
            call_command("serve", periodic=True)  # interbank orders settle while you watch
