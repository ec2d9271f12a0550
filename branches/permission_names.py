"""Permission names in Japanese.

Django names the default permissions in English when it creates them ("Can add KPI"),
whatever the language, and the admin's user and group pages list them by that name. After
every migrate they are named in Japanese here, from the model's own name:
「KPIを追加できる」, 「KPIの履歴を閲覧できる」. Only the default ones (add, change, delete,
view of their model) are renamed; the codenames, which the code checks, stay.
"""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import DEFAULT_DB_ALIAS
from django.utils import translation

ACTIONS = {"add": "追加", "change": "変更", "delete": "削除", "view": "閲覧"}
NAME_LENGTH = Permission._meta.get_field("name").max_length


def japanese_name(permission: Permission) -> str | None:
    """「<model>を<action>できる」 for a default permission, else None."""
    action = permission.codename.partition("_")[0]
    model = permission.content_type.model_class()
    if action not in ACTIONS or model is None:
        return None
    if permission.codename != f"{action}_{model._meta.model_name}":
        return None
    with translation.override(settings.LANGUAGE_CODE):
        subject = str(model._meta.verbose_name)
        # simple-history names its models "historical …" in English.
        if (original := getattr(model, "instance_type", None)) is not None:
            subject = f"{original._meta.verbose_name}の履歴"
        return f"{subject}を{ACTIONS[action]}できる"[:NAME_LENGTH]


def name_permissions_in_japanese(app_config=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Rename the default permissions whose name is not the Japanese one yet: those of
    `app_config` as a post_migrate receiver (each app's permissions exist only after its
    own post_migrate, and a test database's flush sends it for every app), else all."""
    permissions = Permission.objects.using(using).select_related("content_type")
    if app_config is not None:
        permissions = permissions.filter(content_type__app_label=app_config.label)
    renamed = []
    for permission in permissions:
        name = japanese_name(permission)
        if name is not None and permission.name != name:
            permission.name = name
            renamed.append(permission)
    Permission.objects.using(using).bulk_update(renamed, ["name"])
