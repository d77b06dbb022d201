from django.urls import path

from rongshu.web import insight_views as views

urlpatterns = [
    path("console/insight/", views.catalogue, name="insight_catalogue"),
    path("console/insight/segments/", views.segments, name="insight_segments"),
    path("console/insight/segments/<slug:segment_id>/", views.segment, name="insight_segment"),
    path("console/insight/builder/", views.builder, name="insight_builder"),
    path("console/insight/builder/estimate/", views.estimate, name="insight_estimate"),
    path("console/insight/builder/save/", views.save_segment, name="insight_save_segment"),
    path(
        "console/insight/saved/<slug:segment_id>/deactivate/",
        views.deactivate_segment,
        name="insight_deactivate_segment",
    ),
    path("console/insight/circles/", views.circles, name="insight_circles"),
    path("console/insight/customers/<str:customer_id>/", views.profile, name="insight_profile"),
]
