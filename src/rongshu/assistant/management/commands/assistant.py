from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.assistant.errors import AssistantNotReady, InvalidFaq
from rongshu.assistant.services import do_load_faq_set, do_train_model, get_reply


class Command(BaseCommand):
    help = (
        "Assistant 小微: `load` the shipped FAQ set, `train` the model (saved under "
        "RONGSHU_DATA_DIR/assistant/models), `ask TEXT` to try it, `eval --train FILE --test "
        "FILE` to measure an intent classifier on CSVs with columns text,category."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "train", "ask", "eval"])
        parser.add_argument("text", nargs="?", help="the message for `ask`")
        parser.add_argument("--channel", default="web", choices=["web", "sms", "wechat"])
        parser.add_argument("--no-load", action="store_true", help="train without loading")
        parser.add_argument("--train", type=Path, help="eval: training CSV (text,category)")
        parser.add_argument("--test", type=Path, help="eval: test CSV (text,category)")
        parser.add_argument(
            "--embeddings",
            default=None,
            help="eval: a sentence-embedding model directory (default: the configured model, "
            "as in bench/assistant.py)",
        )
        parser.add_argument(
            "--no-embeddings", action="store_true", help="eval: TF-IDF features only"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "eval":
            self._eval(options)
            return
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
                    f"thresholds {_per_language(result.thresholds)}; "
                    f"mixing weights {_per_language(result.alphas)}; saved {result.path}"
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

    def _eval(self, options: dict[str, Any]) -> None:
        from rongshu.assistant.engine import DEFAULT
        from rongshu.assistant.evaluation import evaluate

        train, test = options["train"], options["test"]
        if train is None or test is None:
            raise CommandError("eval needs --train FILE and --test FILE")
        for path in (train, test):
            if not path.is_file():
                raise CommandError(f"{path} is not a file")
        if options["no_embeddings"] and options["embeddings"]:
            raise CommandError("--embeddings and --no-embeddings exclude each other")
        embeddings: str | None = options["embeddings"] or DEFAULT
        if options["no_embeddings"]:
            embeddings = None
        try:
            result = evaluate(train, test, embeddings=embeddings)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"train {result.train_examples} examples, {result.classes} classes; "
            f"test {result.test_examples} examples"
        )
        self.stdout.write(f"embeddings {result.embeddings or 'off'}")
        self.stdout.write(f"accuracy {result.accuracy:.4f}")
        self.stdout.write(f"macro_f1 {result.macro_f1:.4f}")
        self.stdout.write(f"p50_ms {result.p50_ms:.2f}")
        self.stdout.write(f"p99_ms {result.p99_ms:.2f}")
        self.stdout.write(f"train_s {result.train_s:.1f}")


def _per_language(values: dict[str, float]) -> str:
    return ", ".join(f"{language} {value:.2f}" for language, value in values.items())
