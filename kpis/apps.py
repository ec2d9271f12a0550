from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "事業計画とKPI"

    def ready(self):
        from kpis import lookups  # noqa: F401 (registers `__among`)
