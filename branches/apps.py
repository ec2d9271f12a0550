from django.apps import AppConfig


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = "支部と利用者"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from branches.permission_names import name_permissions_in_japanese
        from branches.roles import ensure_role_groups
        from config.middleware import note_login_activity

        # Not tied to one sender: the permissions of each app exist only after its own
        # post_migrate; each receiver does its share per app (see their docstrings).
        post_migrate.connect(ensure_role_groups, dispatch_uid="ensure_role_groups")
        post_migrate.connect(name_permissions_in_japanese, dispatch_uid="permission_names")
        # A login saves the session anyway: it starts the idle window, so the first page
        # after it needs no write of its own.
        user_logged_in.connect(note_login_activity, dispatch_uid="note_login_activity")
