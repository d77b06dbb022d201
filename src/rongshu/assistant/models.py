"""The knowledge base: FAQ entries and their immutable versions.

An entry is the stable identity of one question (``key``, public id, category, active flag,
current version number); every edit writes a new :class:`FaqVersion` and moves the entry's
``version`` to it, so earlier wordings and answers stay on record.
"""

from __future__ import annotations

from django.db import models

from rongshu.assistant.types import SMS_MAX_CHARS, ConversationState, FaqRecord
from rongshu.kernel.ids import new_id


class FaqEntry(models.Model):
    public_id = models.UUIDField(unique=True, default=new_id, editable=False)
    key = models.CharField(max_length=80, unique=True)  # "topic.aspect", e.g. "transfer.fee"
    category = models.CharField(max_length=40, db_index=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)  # the current FaqVersion.version
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "key"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class FaqVersion(models.Model):
    SOURCE_SHIPPED = "shipped"
    SOURCE_STAFF = "staff"
    SOURCES = [(SOURCE_SHIPPED, "shipped FAQ set"), (SOURCE_STAFF, "staff edit")]

    entry = models.ForeignKey(FaqEntry, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    question_zh = models.CharField(max_length=300)
    question_en = models.CharField(max_length=300)
    paraphrases_zh = models.JSONField(default=list)
    paraphrases_en = models.JSONField(default=list)
    answer_web_zh = models.TextField()
    answer_web_en = models.TextField()
    answer_sms_zh = models.CharField(max_length=SMS_MAX_CHARS)
    answer_sms_en = models.CharField(max_length=SMS_MAX_CHARS)
    source = models.CharField(max_length=10, choices=SOURCES, default=SOURCE_SHIPPED)
    edited_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="faq_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry.key} v{self.version}"

    def to_record(self, key: str, category: str) -> FaqRecord:
        return FaqRecord(
            key=key,
            category=category,
            question_zh=self.question_zh,
            question_en=self.question_en,
            paraphrases_zh=tuple(self.paraphrases_zh),
            paraphrases_en=tuple(self.paraphrases_en),
            answer_web_zh=self.answer_web_zh,
            answer_web_en=self.answer_web_en,
            answer_sms_zh=self.answer_sms_zh,
            answer_sms_en=self.answer_sms_en,
        )


# ------------------------------------------------------------------ conversations
class Conversation(models.Model):
    """One customer's exchange with 小微 (and maybe a person) on one channel.

    ``state``: ``bot`` (小微 answers), ``waiting`` (in the staff hand-off queue), ``agent`` (a
    person answers), ``closed``. ``context`` carries the dialogue between turns: the pending
    task intent, its slots, what is awaited (a slot, a confirmation, a one-time code) and the
    count of unsure answers in a row.
    """

    BOT = ConversationState.BOT
    WAITING = ConversationState.WAITING
    AGENT = ConversationState.AGENT
    CLOSED = ConversationState.CLOSED
    STATES = [(BOT, "bot"), (WAITING, "waiting for a person"), (AGENT, "with a person")]
    STATES += [(CLOSED, "closed")]

    public_id = models.UUIDField(unique=True, default=new_id, editable=False)
    channel = models.CharField(max_length=10)  # web, wechat, sms, api
    address = models.CharField(max_length=128, blank=True, default="")  # openid, phone
    customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    user_id = models.IntegerField(null=True, blank=True)
    language = models.CharField(max_length=7, default="zh-hans")
    state = models.CharField(max_length=10, choices=STATES, default=BOT, db_index=True)
    context = models.JSONField(default=dict)
    handed_off = models.BooleanField(default=False)  # ever entered the queue
    handoff_reason = models.CharField(max_length=20, blank=True, default="")
    queued_at = models.DateTimeField(null=True, blank=True)
    agent_key = models.CharField(max_length=80, blank=True, default="")
    agent_name = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["channel", "address"], name="assistant_conv_address")]

    def __str__(self) -> str:
        return f"conversation {self.public_id} ({self.channel}, {self.state})"


class Turn(models.Model):
    """One message in a conversation: a customer's text and the answer it got (from 小微, or
    none while a person handles the chat), or a person's / the system's message."""

    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    AUTHORS = [(CUSTOMER, "customer"), (AGENT, "agent"), (SYSTEM, "system")]
    UP = "up"
    DOWN = "down"
    FEEDBACK = [("", "none"), (UP, "useful"), (DOWN, "not useful")]

    public_id = models.UUIDField(unique=True, default=new_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    seq = models.PositiveIntegerField()
    author = models.CharField(max_length=10, choices=AUTHORS, default=CUSTOMER)
    channel = models.CharField(max_length=10)
    text = models.TextField(blank=True, default="")  # the customer's words
    intent = models.CharField(max_length=80, blank=True, default="")  # task intent or FAQ key
    kind = models.CharField(max_length=10, blank=True, default="")  # task, faq, unsure, handoff
    confidence = models.FloatField(default=0.0)
    answered = models.BooleanField(default=False)
    slots = models.JSONField(default=dict)
    answer = models.TextField(blank=True, default="")  # 小微's or the person's message
    suggestions = models.JSONField(default=list)  # questions offered when 小微 was unsure
    answered_by = models.CharField(max_length=80, blank=True, default="")  # "bot", staff key
    feedback = models.CharField(max_length=4, choices=FEEDBACK, blank=True, default="")
    external_id = models.CharField(max_length=64, blank=True, default="")  # WeChat MsgId
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="assistant_turn_seq"),
        ]
        indexes = [models.Index(fields=["external_id"], name="assistant_turn_external")]

    def __str__(self) -> str:
        return f"turn {self.seq} of {self.conversation_id}"


class ChannelBinding(models.Model):
    """A WeChat openid (or an SMS phone number) bound to a customer, with the sign-in session
    the channel acts in (step-up codes are bound to it)."""

    channel = models.CharField(max_length=10)
    address = models.CharField(max_length=128)
    user_id = models.IntegerField()
    customer_id = models.UUIDField()
    session_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="assistant_binding_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} binding of {self.customer_id}"


class BindingCode(models.Model):
    """A one-time code shown in the portal that binds a WeChat openid to the customer."""

    digest = models.CharField(max_length=64, unique=True)
    user_id = models.IntegerField()
    customer_id = models.UUIDField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"binding code of {self.customer_id}"


class OutboundMessage(models.Model):
    """Outbox of messages sent to a channel outside a request's reply: WeChat customer-service
    messages (late answers, a person's replies) and SMS. Delivered after commit, retried."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    STATES = [(PENDING, "pending"), (SENT, "sent"), (FAILED, "failed")]

    public_id = models.UUIDField(unique=True, default=new_id, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="outbound", null=True
    )
    channel = models.CharField(max_length=10)
    address = models.CharField(max_length=128)
    text = models.TextField()
    state = models.CharField(max_length=8, choices=STATES, default=PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.channel} message {self.public_id} ({self.state})"


class HandledQuestion(models.Model):
    """An unanswered customer question that staff turned into a FAQ entry: the group
    (``cluster_id``, see :func:`rongshu.assistant.queries.cluster_unanswered`) it was drafted
    from and the entry it was linked to. Handled questions are no longer proposed."""

    digest = models.CharField(max_length=64, unique=True)  # sha256 of the text
    text = models.TextField()
    cluster_id = models.CharField(max_length=32, db_index=True)
    entry = models.ForeignKey(FaqEntry, on_delete=models.PROTECT, related_name="handled_questions")
    handled_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"handled question → {self.entry_id}"
