"""The assistant's read side: conversations and their turns, the hand-off queue, channel
bindings, and the learning-loop figures (per-channel stats, clusters of unanswered questions).

Conversations are returned as model instances (``Conversation`` is exported for annotations
only; channels change them through :mod:`rongshu.assistant.services`).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q

from rongshu.assistant.errors import ConversationNotFound
from rongshu.assistant.models import ChannelBinding, Conversation, HandledQuestion, Turn
from rongshu.assistant.text import tokenize
from rongshu.assistant.types import ChannelStats, Cluster, HandledCluster
from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal, PrincipalKind

__all__ = [
    "ChannelStats",
    "Cluster",
    "Conversation",
    "HandledCluster",
    "access_conversation",
    "channel_stats",
    "cluster_fingerprint",
    "cluster_unanswered",
    "conversation_exists",
    "find_conversation",
    "find_turn",
    "last_seq",
    "list_bindings",
    "list_handled_clusters",
    "list_queue",
    "list_turns",
    "question_digest",
    "queue_position",
    "transcript",
    "turn_count",
    "unanswered_questions",
]


# ------------------------------------------------------------------ conversations
def find_conversation(public_id: uuid.UUID | str | None) -> Conversation | None:
    if not public_id:
        return None
    try:
        return Conversation.objects.filter(public_id=uuid.UUID(str(public_id))).first()
    except ValueError:
        return None


def access_conversation(principal: Principal, public_id: uuid.UUID | str) -> Conversation:
    """The caller's own conversation (customers), any conversation (staff who handle chats);
    others get :class:`ConversationNotFound` (nothing is disclosed)."""
    conv = find_conversation(public_id)
    if conv is None:
        raise ConversationNotFound()
    if principal.kind is PrincipalKind.STAFF and identity.has_permission(
        principal, Action.ASSISTANT_CHAT
    ):
        return conv
    if principal.customer_id is not None and conv.customer_id == principal.customer_id:
        return conv
    raise ConversationNotFound()


def conversation_exists(channel: str, address: str) -> bool:
    """Whether any conversation (open or closed) was held with this channel address."""
    return Conversation.objects.filter(channel=channel, address=address).exists()


def list_turns(conv: Conversation) -> list[Turn]:
    return list(conv.turns.order_by("seq"))


def last_seq(conv: Conversation | None) -> int:
    """The sequence number of the conversation's latest turn (0: none yet)."""
    if conv is None:
        return 0
    return int(conv.turns.order_by("-seq").values_list("seq", flat=True).first() or 0)


def turn_count(conv: Conversation) -> int:
    return conv.turns.count()


def find_turn(public_id: uuid.UUID | str) -> Turn | None:
    """A turn by public id, with its conversation (None for an unknown or malformed id)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return Turn.objects.filter(public_id=key).select_related("conversation").first()


def transcript(conv: Conversation) -> list[dict[str, Any]]:
    """The conversation as (who, text) lines for the staff console and the API."""
    lines: list[dict[str, Any]] = []
    for turn in list_turns(conv):
        if turn.text:
            lines.append(
                {"who": "customer", "text": turn.text, "at": turn.created_at, "turn": turn}
            )
        if turn.answer:
            who = "bot" if turn.answered_by == "bot" else turn.author
            lines.append({"who": who, "text": turn.answer, "at": turn.created_at, "turn": turn})
    return lines


# ------------------------------------------------------------------ hand-off queue
def list_queue() -> list[Conversation]:
    """Conversations waiting for a person (oldest first), then those being handled."""
    waiting = list(Conversation.objects.filter(state=Conversation.WAITING).order_by("queued_at"))
    taken = list(Conversation.objects.filter(state=Conversation.AGENT).order_by("queued_at"))
    return waiting + taken


def queue_position(conv: Conversation) -> int:
    if conv.state != Conversation.WAITING or conv.queued_at is None:
        return 0
    return (
        Conversation.objects.filter(
            state=Conversation.WAITING, queued_at__lt=conv.queued_at
        ).count()
        + 1
    )


# ------------------------------------------------------------------ channel bindings
def list_bindings(principal: Principal) -> list[ChannelBinding]:
    if principal.customer_id is None:
        return []
    return list(
        ChannelBinding.objects.filter(customer_id=principal.customer_id).order_by("-created_at")
    )


# ------------------------------------------------------------------ learning loop
def channel_stats() -> list[ChannelStats]:
    """Per channel: accuracy from 👍/👎, containment (conversations never handed to a person)
    and hand-off rate."""
    convs = {
        row["channel"]: row
        for row in Conversation.objects.values("channel").annotate(
            n=Count("id"), handed=Count("id", filter=Q(handed_off=True))
        )
    }
    turns = {
        row["channel"]: row
        for row in Turn.objects.filter(author=Turn.CUSTOMER, answered_by="bot")
        .values("channel")
        .annotate(
            n=Count("id"),
            answered=Count("id", filter=Q(answered=True)),
            up=Count("id", filter=Q(feedback=Turn.UP)),
            down=Count("id", filter=Q(feedback=Turn.DOWN)),
        )
    }
    out = []
    for channel in sorted(set(convs) | set(turns)):
        c: dict[str, Any] = dict(convs.get(channel, {}))
        t: dict[str, Any] = dict(turns.get(channel, {}))
        out.append(
            ChannelStats(
                channel=channel,
                conversations=int(c.get("n", 0)),
                bot_answers=int(t.get("n", 0)),
                answered=int(t.get("answered", 0)),
                feedback_up=int(t.get("up", 0)),
                feedback_down=int(t.get("down", 0)),
                handed_off=int(c.get("handed", 0)),
            )
        )
    return out


def unanswered_questions(limit: int = 2000) -> list[str]:
    """Customers' messages 小微 was unsure about, or whose answer got a 👎 — except those
    already turned into a FAQ entry (:class:`HandledQuestion`)."""
    handled = HandledQuestion.objects.filter(text=OuterRef("text"))
    rows = (
        Turn.objects.filter(author=Turn.CUSTOMER)
        .filter(Q(kind__in=["unsure", "handoff"], answered=False) | Q(feedback=Turn.DOWN))
        .exclude(text="")
        .exclude(Exists(handled))
        .order_by("-id")
        .values_list("text", flat=True)[:limit]
    )
    texts = list(rows)
    if not texts:
        return texts
    # The clusters work on stripped texts: a message stored with spaces around it is handled too.
    stripped = HandledQuestion.objects.filter(
        digest__in={question_digest(t) for t in texts}
    ).values_list("text", flat=True)
    done = set(stripped)
    return [t for t in texts if t.strip() not in done]


def question_digest(text: str) -> str:
    """The key of a handled question (sha256 of the stripped text)."""
    return hashlib.sha256(text.strip().encode()).hexdigest()


def cluster_fingerprint(questions: list[str] | tuple[str, ...]) -> str:
    """A group's id: the same questions give the same id, whatever their order."""
    joined = "\n".join(sorted({q.strip() for q in questions}))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def list_handled_clusters(limit: int = 20) -> list[HandledCluster]:
    """The latest groups staff turned into FAQ entries, newest first."""
    rows = (
        HandledQuestion.objects.values("cluster_id", "entry__key", "entry__is_active", "handled_by")
        .annotate(n=Count("id"), last=Max("id"))
        .order_by("-last")[:limit]
    )
    return [
        HandledCluster(
            cluster_id=r["cluster_id"],
            entry_key=r["entry__key"],
            entry_active=bool(r["entry__is_active"]),
            questions=int(r["n"]),
            handled_by=r["handled_by"],
        )
        for r in rows
    ]


def cluster_unanswered(
    texts: list[str] | None = None, *, max_clusters: int | None = 12
) -> list[Cluster]:
    """Group unanswered questions (TF-IDF over jieba words + character n-grams, agglomerative
    clustering with a cosine distance threshold) so staff can write one FAQ entry per group.
    Every group carries all its distinct questions (most central first) and its fingerprint
    ``id``; ``max_clusters=None`` returns every group."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    texts = unanswered_questions() if texts is None else texts
    unique = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    if not unique:
        return []
    if len(unique) == 1:
        only = (unique[0],)
        return [Cluster(texts.count(unique[0]) or 1, only, (), only, cluster_fingerprint(only))]
    vectorizer = TfidfVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, sublinear_tf=True
    )
    matrix = normalize(vectorizer.fit_transform(unique)).toarray()
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=0.8
    )
    labels = model.fit_predict(matrix)
    terms = vectorizer.get_feature_names_out()
    counts = {t: texts.count(t) for t in unique}
    clusters: list[Cluster] = []
    for label in set(labels.tolist()):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        centre = matrix[idx].mean(axis=0)
        order = sorted(idx, key=lambda i: -float(matrix[i] @ centre))
        top_terms = [str(terms[j]) for j in centre.argsort()[::-1][:4] if centre[j] > 0]
        questions = tuple(unique[i] for i in order)
        clusters.append(
            Cluster(
                size=sum(counts[unique[i]] for i in idx),
                examples=questions[:5],
                terms=tuple(top_terms),
                questions=questions,
                id=cluster_fingerprint(questions),
            )
        )
    clusters.sort(key=lambda c: (-c.size, c.examples[0]))
    return clusters if max_clusters is None else clusters[:max_clusters]
