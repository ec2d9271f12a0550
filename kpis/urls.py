from django.urls import path, register_converter

from kpis import national_views, views


class YearConverter:
    """A western fiscal year in a URL: four digits (/branches/11/2023/)."""

    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class BranchCodeConverter:
    """A branch code: two digits (11 埼玉)."""

    regex = "[0-9]{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(YearConverter, "fiscal_year")
register_converter(BranchCodeConverter, "branch_code")

app_name = "kpis"

urlpatterns = [
    path("", views.home, name="home"),
    path("branches/<branch_code:code>/", views.branch_latest, name="branch"),
    path("branches/<branch_code:code>/<fiscal_year:year>/", views.branch_year, name="branch_year"),
    path(
        "branches/<branch_code:code>/<fiscal_year:year>/pdf/",
        views.branch_year_pdf,
        name="branch_year_pdf",
    ),
    path(
        "branches/<branch_code:code>/<fiscal_year:year>/plan/",
        views.plan_year,
        name="plan_year",
    ),
    path("kpis/", views.kpi_table, name="kpi_table"),
    path("indicators/", views.indicator_list, name="indicator_list"),
    path(
        "indicators/<str:slug>/<fiscal_year:year>/",
        views.indicator_compare,
        name="indicator_compare",
    ),
    path("progress/", national_views.entry_progress, name="entry_progress"),
    path("map/", national_views.national_map, name="national_map"),
]
