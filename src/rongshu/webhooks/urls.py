from django.urls import path

from rongshu.webhooks import sms, wechat

urlpatterns = [
    path("wechat/", wechat.endpoint, name="webhook_wechat"),
    path("sms/", sms.endpoint, name="webhook_sms"),
]
