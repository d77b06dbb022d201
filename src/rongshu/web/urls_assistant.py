from django.urls import path

from rongshu.web import assistant_views as views

urlpatterns = [
    path("assistant/", views.chat, name="assistant_chat"),
    path("assistant/ask/", views.ask, name="assistant_ask"),
    path("console/assistant/", views.faq_list, name="assistant_faq_list"),
    path("console/assistant/train/", views.faq_train, name="assistant_faq_train"),
    path("console/assistant/<str:key>/", views.faq_edit, name="assistant_faq_edit"),
    path("console/assistant/<str:key>/active/", views.faq_active, name="assistant_faq_active"),
]
