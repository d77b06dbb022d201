from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.assistant.errors import AssistantNotReady, InvalidFaq
from rongshu.assistant.services import do_load_faq_set, do_train_model, get_reply


class Command(BaseCommand):
    help = (
        "Assistant 小微: `load` the shipped FAQ set, `train` the model (saved under "
        "RONGSHU_DATA_DIR/assistant/models), `ask TEXT` to try it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "train", "ask"])
        parser.add_argument("text", nargs="?", help="the message for `ask`")
        parser.add_argument("--channel", default="web", choices=["web", "sms", "wechat"])
        parser.add_argument("--no-load", action="store_true", help="train without loading")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "load" or (action == "train" and not options["no_load"]):
                loaded = do_load_faq_set()
                self.stdout.write(
                    f"FAQ set: {loaded.created} created, {loaded.updated} updated, "
                    f"{loaded.unchanged} unchanged, {loaded.kept_staff_edits} staff edits kept"
                )
            if action == "train":
                result = do_train_model()
                self.stdout.write(
                    f"trained {result.version} on {result.entries} entries "
                    f"({result.samples} examples) in {result.seconds:.1f} s; "
                    f"threshold {result.threshold:.2f}; saved {result.path}"
                )
            elif action == "ask":
                if not options["text"]:
                    raise CommandError("ask needs a TEXT")
                reply = get_reply(options["text"], channel=options["channel"])
                self.stdout.write(reply.text)
                self.stdout.write(
                    f"[{reply.faq_key or 'unsure'} confidence={reply.confidence:.2f} "
                    f"model={reply.model_version}]"
                )
        except (InvalidFaq, AssistantNotReady) as exc:
            raise CommandError(str(exc)) from exc
