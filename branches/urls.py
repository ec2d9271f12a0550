from django.urls import path

from branches import views

app_name = "people"

urlpatterns = [
    path("users/", views.users, name="users"),
    path("users/preview/", views.users_preview, name="users_preview"),
    path("users/export.<str:fmt>", views.users_export, name="users_export"),
    path("logins/", views.logins, name="logins"),
]
