from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from branches.accounts import PasswordResetForm

admin.site.site_header = "支部KPI管理 管理画面"
admin.site.site_title = "支部KPI管理"
admin.site.index_title = "管理メニュー"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("people/", include("branches.urls")),
    path("admin/", admin.site.urls),
    path("imports/", include("imports.urls")),
    path("entry/", include("kpis.entry.urls")),
    path("", include("kpis.urls")),
]
