"""``rongshu serve``: collect static files and serve with gunicorn (PORT, default 8000)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve rongshu over HTTP with gunicorn (PORT overrides the port, default 8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
        parser.add_argument(
            "--periodic",
            action="store_true",
            help="also run the periodic tasks (kernel.periodic: clearing, …) in one worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from rongshu.kernel import outbox, periodic
        from rongshu.wsgi import application

        call_command("collectstatic", interactive=False, verbosity=0)
        bind = f"{options['host']}:{options['port']}"
        config = {
            "bind": bind,
            "workers": options["workers"],
            "threads": options["threads"],
            "accesslog": "-",
            "timeout": 60,
        }
        courier = settings.OUTBOX_DISPATCH_ON_COMMIT and settings.OUTBOX_COURIER
        lock = settings.DATA_DIR / "periodic.lock"

        def post_worker_init(worker: Any) -> None:
            if courier:
                # one outbox courier per worker process (kernel.outbox): partner webhooks
                # leave the request threads, and failed deliveries are retried while serving
                outbox.start_courier()
            if options["periodic"]:
                periodic.start(lock)  # in the one worker that gets the lock

        config["post_worker_init"] = post_worker_init

        class App(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in config.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return application

        self.stdout.write(self.style.SUCCESS(f"rongshu is serving on http://{bind}/"))
        App().run()
