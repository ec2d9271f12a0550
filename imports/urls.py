from django.urls import path

from imports import job_views, rollover_views, views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:pk>/", views.preview, name="preview"),
    path("<int:pk>/confirm/", job_views.confirm, name="confirm"),
    path("<int:pk>/progress/", job_views.progress, name="progress"),
    path("<int:pk>/progress.json", job_views.progress_status, name="progress_status"),
    path("<int:pk>/mapping/", views.choose_mapping, name="mapping"),
    path("<int:pk>/result/", views.result, name="result"),
    path("<int:pk>/undo/", views.undo, name="undo"),
    path("<int:pk>/file/", views.original, name="original"),
    path("rollover/", rollover_views.rollover_page, name="rollover"),
    path("templates/<str:kind>.xlsx", views.template, name="template"),
]
