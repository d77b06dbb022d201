from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "rongshu.assistant"
    label = "assistant"
    verbose_name = "Assistant (小微)"
    default_auto_field = "django.db.models.BigAutoField"
