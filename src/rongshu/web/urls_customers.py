from django.urls import path

from rongshu.web import customers_views as views

urlpatterns = [
    path("", views.search, name="customers_search"),
    path("review/", views.review, name="customers_review"),
    path("review/<uuid:pair_id>/decide/", views.decide, name="customers_decide"),
    path("resolve/", views.resolve, name="customers_resolve"),
    path("quality/", views.quality, name="customers_quality"),
    path("<uuid:customer_id>/", views.customer, name="customers_customer"),
]
