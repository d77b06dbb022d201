from django.urls import path

from rongshu.web import assistant_chat_views as chat
from rongshu.web import assistant_views as views

urlpatterns = [
    path("assistant/", chat.chat, name="assistant_chat"),
    path("assistant/ask/", chat.ask, name="assistant_ask"),
    path("assistant/poll/", chat.poll, name="assistant_poll"),
    path("assistant/new/", chat.new_conversation, name="assistant_new"),
    path("assistant/feedback/<uuid:turn_id>/", chat.feedback, name="assistant_feedback"),
    path("assistant/wechat-code/", chat.wechat_code, name="assistant_wechat_code"),
    path("console/assistant/", views.faq_list, name="assistant_faq_list"),
    path("console/assistant/train/", views.faq_train, name="assistant_faq_train"),
    path("console/assistant/chats/", chat.queue, name="assistant_queue"),
    path(
        "console/assistant/chats/<uuid:conversation_id>/",
        chat.conversation,
        name="assistant_conversation",
    ),
    path(
        "console/assistant/chats/<uuid:conversation_id>/<str:action>/",
        chat.conversation_action,
        name="assistant_conversation_action",
    ),
    path("console/assistant/insights/", chat.insights, name="assistant_insights"),
    path(
        "console/assistant/insights/clusters/<str:cluster_id>/draft/",
        chat.draft_from_cluster,
        name="assistant_draft_from_cluster",
    ),
    path("console/assistant/<str:key>/", views.faq_edit, name="assistant_faq_edit"),
    path("console/assistant/<str:key>/active/", views.faq_active, name="assistant_faq_active"),
]
