"""Typed values that cross the assistant's boundary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

LANGUAGES = ("zh-hans", "en")
CHANNELS = ("web", "sms", "wechat")
SMS_MAX_CHARS = 70  # one SMS segment in UCS-2 (Chinese); we hold English to the same bound


@dataclass(frozen=True)
class FaqRecord:
    """One FAQ entry's content, as shipped in the data file and as trained on."""

    key: str
    category: str
    question_zh: str
    question_en: str
    paraphrases_zh: tuple[str, ...]
    paraphrases_en: tuple[str, ...]
    answer_web_zh: str
    answer_web_en: str
    answer_sms_zh: str
    answer_sms_en: str

    def question(self, language: str) -> str:
        return self.question_zh if language == "zh-hans" else self.question_en

    def paraphrases(self, language: str) -> tuple[str, ...]:
        return self.paraphrases_zh if language == "zh-hans" else self.paraphrases_en


@dataclass(frozen=True)
class Suggestion:
    faq_id: uuid.UUID
    faq_key: str
    question: str
    score: float


@dataclass(frozen=True)
class Reply:
    """What the assistant answers to one message on one channel."""

    text: str
    channel: str
    language: str
    answered: bool  # False: out of scope or unsure; ``text`` is a clarifying question
    confidence: float
    intent: str | None = None
    faq_id: uuid.UUID | None = None
    faq_key: str | None = None
    faq_version: int | None = None
    model_version: str = ""
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int
    kept_staff_edits: int


@dataclass(frozen=True)
class TrainResult:
    version: str
    path: str
    entries: int
    samples: int
    seconds: float
    thresholds: dict[str, float]  # per language of the message
    alphas: dict[str, float]  # the classifiers' share of the mix with BM25, per language


class ConversationState:
    """A conversation's ``state``: 小微 answers, waiting in the hand-off queue, with a person,
    closed."""

    BOT = "bot"
    WAITING = "waiting"
    AGENT = "agent"
    CLOSED = "closed"


@dataclass(frozen=True)
class ChannelStats:
    """The learning-loop figures of one channel."""

    channel: str
    conversations: int
    bot_answers: int
    answered: int
    feedback_up: int
    feedback_down: int
    handed_off: int

    @property
    def accuracy(self) -> float | None:
        rated = self.feedback_up + self.feedback_down
        return self.feedback_up / rated if rated else None

    @property
    def containment(self) -> float | None:
        return 1 - self.handed_off / self.conversations if self.conversations else None

    @property
    def handoff_rate(self) -> float | None:
        return self.handed_off / self.conversations if self.conversations else None


@dataclass(frozen=True)
class Cluster:
    """A group of unanswered questions (one FAQ entry to write)."""

    size: int
    examples: tuple[str, ...]  # the questions nearest the cluster's centre first
    terms: tuple[str, ...]  # the heaviest TF-IDF terms
    questions: tuple[str, ...] = ()  # every distinct question of the group, centre first
    id: str = ""  # fingerprint of the group's questions (cluster_fingerprint)

    @property
    def representative(self) -> str:
        return (self.questions or self.examples)[0]


@dataclass(frozen=True)
class HandledCluster:
    """A group of unanswered questions that staff turned into a (draft) FAQ entry."""

    cluster_id: str
    entry_key: str
    entry_active: bool
    questions: int
    handled_by: str
