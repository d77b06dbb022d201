"""The model registry: credit models as versioned artifacts (bytes + sha256 + metrics).

States: ``draft`` → ``approved`` (four-eyes: the approver is not the submitter, both staff
with ``model.approve``) → ``active`` (one at a time; activating retires the previous one) →
``retired``. Only an approved, active model decides; each decision records its version.
"""

from __future__ import annotations

import hashlib
import threading
import uuid

from django.db import transaction

from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.lending.errors import (
    ArtifactInvalid,
    FourEyes,
    InvalidState,
    ModelNotFound,
    NoActiveModel,
)
from rongshu.lending.models import ModelVersion
from rongshu.lending.scoring.artifact import ModelArtifact

_cache: dict[str, ModelArtifact] = {}
_lock = threading.Lock()


def load_artifact(version: ModelVersion) -> ModelArtifact:
    """The deserialised model (cached by its sha256; bytes are checked against it)."""
    found = _cache.get(version.sha256)
    if found is not None:
        return found
    data = bytes(version.artifact)
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise ArtifactInvalid("The stored artifact does not match its sha256.")
    artifact = ModelArtifact.from_bytes(data)
    with _lock:
        _cache[version.sha256] = artifact
    return artifact


def do_register_model(principal: Principal, artifact_bytes: bytes) -> ModelVersion:
    """Store a new draft version from its serialised artifact."""
    identity.check_permission(principal, Action.MODEL_APPROVE)
    try:
        artifact = ModelArtifact.from_bytes(artifact_bytes)
    except Exception as exc:
        raise ArtifactInvalid(str(exc)[:200]) from exc
    digest = hashlib.sha256(artifact_bytes).hexdigest()
    with transaction.atomic():
        row = ModelVersion.objects.filter(name=artifact.name, version=artifact.version).first()
        if row is not None:
            if row.sha256 != digest:
                raise InvalidState("This name and version already hold another artifact.")
            return row
        row = ModelVersion.objects.create(
            name=artifact.name,
            version=artifact.version,
            kind=artifact.kind,
            artifact=artifact_bytes,
            sha256=digest,
            metrics={k: float(v) for k, v in artifact.metrics.items()},
            submitted_by=principal.principal_key,
            created_at=clock.now(),
        )
        do_audit(
            principal.principal_key,
            "lending.model_registered",
            object_type="model",
            object_id=str(row.public_id),
            data={"name": row.name, "version": row.version, "sha256": digest},
        )
    return row


def _locked(model_id: uuid.UUID) -> ModelVersion:
    row = ModelVersion.objects.select_for_update().filter(public_id=model_id).first()
    if row is None:
        raise ModelNotFound()
    return row


def do_approve_model(principal: Principal, model_id: uuid.UUID) -> ModelVersion:
    identity.check_permission(principal, Action.MODEL_APPROVE)
    with transaction.atomic():
        row = _locked(model_id)
        if row.state != ModelVersion.DRAFT:
            raise InvalidState("Only a draft model can be approved.")
        if row.submitted_by == principal.principal_key:
            raise FourEyes("The submitter cannot approve their own model.")
        row.state, row.approved_by, row.approved_at = (
            ModelVersion.APPROVED,
            principal.principal_key,
            clock.now(),
        )
        row.save(update_fields=["state", "approved_by", "approved_at"])
        do_audit(
            principal.principal_key,
            "lending.model_approved",
            object_type="model",
            object_id=str(row.public_id),
        )
    return row


def do_activate_model(principal: Principal, model_id: uuid.UUID) -> ModelVersion:
    identity.check_permission(principal, Action.MODEL_APPROVE)
    with transaction.atomic():
        row = _locked(model_id)
        if row.state not in (ModelVersion.APPROVED, ModelVersion.RETIRED) or not row.approved_by:
            raise InvalidState("Only an approved model can be activated.")
        ModelVersion.objects.filter(state=ModelVersion.ACTIVE).update(state=ModelVersion.RETIRED)
        row.state, row.activated_at = ModelVersion.ACTIVE, clock.now()
        row.save(update_fields=["state", "activated_at"])
        do_audit(
            principal.principal_key,
            "lending.model_activated",
            object_type="model",
            object_id=str(row.public_id),
        )
    return row


def do_retire_model(principal: Principal, model_id: uuid.UUID) -> ModelVersion:
    identity.check_permission(principal, Action.MODEL_APPROVE)
    with transaction.atomic():
        row = _locked(model_id)
        if row.state != ModelVersion.ACTIVE:
            raise InvalidState("Only the active model can be retired.")
        row.state = ModelVersion.RETIRED
        row.save(update_fields=["state"])
        do_audit(
            principal.principal_key,
            "lending.model_retired",
            object_type="model",
            object_id=str(row.public_id),
        )
    return row


def get_active_model() -> tuple[ModelVersion, ModelArtifact]:
    """The one model allowed to decide (approved and active), or :class:`NoActiveModel`."""
    row = (
        ModelVersion.objects.filter(state=ModelVersion.ACTIVE)
        .exclude(approved_by="")
        .defer("artifact")
        .first()
    )
    if row is None:
        raise NoActiveModel()
    cached = _cache.get(row.sha256)
    if cached is not None:
        return row, cached
    full = ModelVersion.objects.get(pk=row.pk)
    return full, load_artifact(full)


def list_models() -> list[ModelVersion]:
    return list(ModelVersion.objects.defer("artifact").order_by("-created_at"))
