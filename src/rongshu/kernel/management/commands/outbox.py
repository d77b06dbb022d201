from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.kernel.errors import NotFound
from rongshu.kernel.outbox import (
    dispatch_pending,
    do_retry_dead_letter,
    list_dead_letters,
)


class Command(BaseCommand):
    help = "Outbox: `dispatch [--loop]`, `list --dead`, `retry EVENT_ID`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["dispatch", "list", "retry"])
        parser.add_argument("event_id", nargs="?")
        parser.add_argument("--loop", action="store_true", help="keep dispatching (a worker)")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--dead", action="store_true", help="list dead letters")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "dispatch":
            while True:
                delivered, failed = dispatch_pending()
                if delivered or failed or not options["loop"]:
                    self.stdout.write(f"delivered {delivered}, failed {failed}")
                if not options["loop"]:
                    return
                time.sleep(options["interval"])
        elif action == "list":
            dead = list_dead_letters()
            for event in dead:
                self.stdout.write(
                    f"{event.event_id}  {event.event_type}  attempts={event.attempts}  "
                    f"{event.last_error.splitlines()[0] if event.last_error else ''}"
                )
            self.stdout.write(f"{len(dead)} dead letters")
        else:
            if not options["event_id"]:
                raise CommandError("retry needs an EVENT_ID")
            try:
                event = do_retry_dead_letter(options["event_id"])
            except NotFound as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"re-queued {event.event_id}")
