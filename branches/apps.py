from django.apps import AppConfig


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = "支部と利用者"

    def ready(self):
        from django.db.models.signals import post_migrate

        from branches.roles import ensure_role_groups

        # Not tied to one sender: the permissions of later apps exist only after their
        # own post_migrate, and the groups must end up with all of them.
        post_migrate.connect(ensure_role_groups, dispatch_uid="ensure_role_groups")
