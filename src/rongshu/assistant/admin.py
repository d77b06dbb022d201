from django.contrib import admin

from rongshu.assistant.models import FaqEntry, FaqVersion


class FaqVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FaqVersion
    extra = 0
    can_delete = False
    fields = ("version", "question_zh", "question_en", "source", "edited_by", "created_at")
    readonly_fields = fields


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key", "category", "version", "is_active", "updated_at")
    list_filter = ("category", "is_active")
    search_fields = ("key",)
    readonly_fields = ("public_id", "key", "version", "created_at", "updated_at")
    inlines = [FaqVersionInline]
