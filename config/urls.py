from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "支部KPI管理 管理画面"
admin.site.site_title = "支部KPI管理"
admin.site.index_title = "管理メニュー"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("imports/", include("imports.urls")),
    path("entry/", include("kpis.entry.urls")),
    path("", include("kpis.urls")),
]
