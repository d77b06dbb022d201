"""Clearing tables: our side (instructions sent, messages received, reconciliation) and the
simulator's side (the network's bank directory, payments, outgoing messages, statement
entries), so the simulated network survives restarts like a real one."""

from __future__ import annotations

from django.db import models

# ====================================================================== our side


class Instruction(models.Model):
    """One pacs.008 we handed to a network, and what we have learnt about it since."""

    SUBMITTED = "submitted"
    SETTLED = "settled"
    REJECTED = "rejected"
    RETURNED = "returned"
    STATUSES = [(s, s) for s in (SUBMITTED, SETTLED, REJECTED, RETURNED)]

    network = models.CharField(max_length=10)
    instruction_id = models.CharField(max_length=35, unique=True)
    end_to_end_id = models.CharField(max_length=35, db_index=True)
    message_id = models.CharField(max_length=35)
    fingerprint = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    creditor_bank_code = models.CharField(max_length=35)
    creditor_account = models.CharField(max_length=34)
    status = models.CharField(max_length=10, choices=STATUSES, default=SUBMITTED)
    reason_code = models.CharField(max_length=4, blank=True, default="")
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    pacs008 = models.TextField()

    def __str__(self) -> str:
        return f"{self.network}:{self.instruction_id} {self.status}"


class ReceivedMessage(models.Model):
    """Every distinct inbound message id, with how many copies arrived."""

    network = models.CharField(max_length=10)
    message_id = models.CharField(max_length=35)
    kind = models.CharField(max_length=20)
    received_at = models.DateTimeField()
    copies = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "message_id"], name="clearing_msg_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class ReconciliationRun(models.Model):
    network = models.CharField(max_length=10)
    business_date = models.DateField()
    currency = models.CharField(max_length=3)
    run_at = models.DateTimeField()
    statement_message_id = models.CharField(max_length=35)
    matched = models.PositiveIntegerField()
    ours_count = models.PositiveIntegerField()
    theirs_count = models.PositiveIntegerField()
    breaks_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "business_date", "currency"], name="clearing_recon_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network} {self.business_date} {self.currency}: {self.breaks_count} breaks"


class ReconciliationBreakRecord(models.Model):
    OURS_ONLY = "ours_only"
    THEIRS_ONLY = "theirs_only"
    AMOUNT_MISMATCH = "amount_mismatch"
    KINDS = [(k, k) for k in (OURS_ONLY, THEIRS_ONLY, AMOUNT_MISMATCH)]

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="breaks")
    kind = models.CharField(max_length=16, choices=KINDS)
    end_to_end_id = models.CharField(max_length=140)
    direction = models.CharField(max_length=4)  # DBIT: money left us; CRDT: came back
    ours_minor = models.BigIntegerField(null=True)
    theirs_minor = models.BigIntegerField(null=True)
    currency = models.CharField(max_length=3)

    def __str__(self) -> str:
        return f"{self.kind} {self.end_to_end_id}"


# ====================================================================== the simulator's side


class SimBank(models.Model):
    code = models.CharField(max_length=12, unique=True)  # CNAPS bank code (行号)
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SimAccount(models.Model):
    OPEN = "open"
    CLOSED = "closed"
    BLOCKED = "blocked"
    STATUSES = [(s, s) for s in (OPEN, CLOSED, BLOCKED)]

    bank = models.ForeignKey(SimBank, on_delete=models.CASCADE, related_name="accounts")
    number = models.CharField(max_length=34)
    name = models.CharField(max_length=140)
    status = models.CharField(max_length=8, choices=STATUSES, default=OPEN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank", "number"], name="clearing_sim_account_once")
        ]

    def __str__(self) -> str:
        return f"{self.bank.code}/{self.number}"


class SimNetworkState(models.Model):
    network = models.CharField(max_length=10, unique=True)
    down = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.network} {'down' if self.down else 'up'}"


class SimPayment(models.Model):
    """A pacs.008 as the network received it, and the fate it decided at once."""

    SETTLED = "settled"
    REJECTED = "rejected"

    network = models.CharField(max_length=10)
    instruction_id = models.CharField(max_length=35)
    end_to_end_id = models.CharField(max_length=35)
    message_id = models.CharField(max_length=35)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    creditor_bank_code = models.CharField(max_length=35)
    creditor_account = models.CharField(max_length=34)
    received_at = models.DateTimeField()
    fate = models.CharField(max_length=8)
    reason_code = models.CharField(max_length=4, blank=True, default="")
    decided_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True)
    return_reason = models.CharField(max_length=4, blank=True, default="")
    pacs008 = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "instruction_id"], name="clearing_sim_payment_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.instruction_id} {self.fate}"


class SimMessage(models.Model):
    """A message the network sends us, revealed at ``due_at`` (duplicates are extra rows)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    INVALID = "invalid"

    network = models.CharField(max_length=10)
    message_id = models.CharField(max_length=35)
    kind = models.CharField(max_length=20)
    xml = models.TextField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, default=PENDING)
    delivered_at = models.DateTimeField(null=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"], name="clearing_sim_msg_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id} due {self.due_at}"


class SimEntry(models.Model):
    """A booking on our account at the network: what its camt.053 reports for the day."""

    network = models.CharField(max_length=10)
    entry_ref = models.CharField(max_length=35, unique=True)
    booked_at = models.DateTimeField()
    booked_on = models.DateField()
    direction = models.CharField(max_length=4)  # DBIT (payment out) / CRDT (return in)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    end_to_end_id = models.CharField(max_length=35)
    instruction_id = models.CharField(max_length=35)

    class Meta:
        indexes = [models.Index(fields=["network", "booked_on"], name="clearing_sim_entry_day")]

    def __str__(self) -> str:
        return f"{self.direction} {self.amount_minor} {self.end_to_end_id}"
