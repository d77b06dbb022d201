from django.contrib import admin

from rongshu.identity.models import (
    ApprovalRequest,
    ConsentRecord,
    CustomerCredential,
    PartnerClient,
    StaffMember,
    UserSession,
)


@admin.register(CustomerCredential)
class CustomerCredentialAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("public_id", "home_branch_code", "region_code", "created_at")
    exclude = ("real_name", "resident_id", "resident_id_index", "phone")
    readonly_fields = ("user", "home_branch_code", "region_code", "created_at")


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "role", "branch_code", "region_code", "active")
    list_filter = ("role", "active")
    readonly_fields = ("role",)  # role changes go through four-eyes approval


@admin.register(PartnerClient)
class PartnerClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("client_id", "name", "active", "rate_limit_per_minute", "secret_rotated_at")
    exclude = ("secret_hash", "previous_secret_hash", "webhook_secret")


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("public_id", "user", "kind", "created_at", "revoked_at")
    exclude = ("session_key",)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("public_id", "action", "object_type", "object_id", "state", "requested_at")
    list_filter = ("state", "action")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("customer", "purpose", "granted", "notice_version", "at")
    list_filter = ("purpose", "granted")
