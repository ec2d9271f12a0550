from django.urls import path

from kpis.entry import plan_views, report_views, views

app_name = "entry"

branch_year = "<str:code>/<int:year>/"

urlpatterns = [
    path("", views.index, name="index"),
    path(branch_year, views.grid, name="grid"),
    path(f"{branch_year}cells/", views.save_cell, name="cell_save"),
    path(f"{branch_year}history/", views.history, name="history"),
    path(f"{branch_year}plan/", plan_views.plan, name="plan"),
    path(f"{branch_year}plan/measure/<int:pk>/", plan_views.plan_measure, name="plan_measure"),
    path(f"{branch_year}plan/kpi/<int:pk>/", plan_views.plan_kpi, name="plan_kpi"),
    path(f"{branch_year}workflow/<str:action>/", views.transition, name="transition"),
    path(f"{branch_year}kpi/<int:pk>/", views.kpi_detail, name="kpi"),
    path(f"{branch_year}kpi/<int:pk>/actual/", views.set_actual, name="actual"),
    path(f"{branch_year}kpi/<int:pk>/mark/", views.set_mark, name="mark"),
    path(f"{branch_year}kpi/<int:pk>/note/", report_views.kpi_note, name="kpi_note"),
    path(f"{branch_year}measure/<int:pk>/", report_views.measure, name="measure"),
    path(f"{branch_year}kpi/<int:pk>/<int:month>/", views.cell, name="cell"),
    path(f"{branch_year}kpi/<int:pk>/<int:month>/comment/", views.add_comment, name="comment"),
]
