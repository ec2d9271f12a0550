"""Who a user is in the product: admin (head office), council member, branch staff/manager.

Admins and council members are Django groups; branch roles live on Membership.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission

from branches.transfers import current_membership

ADMIN_GROUP = "本部管理者"
COUNCIL_GROUP = "評議員"

# Apps whose models head-office admins manage in the Django admin.
ADMIN_APPS = ("branches", "kpis", "imports")


def _last_app_migrated():
    """The app whose post_migrate comes last: the last installed app with models."""
    return [config for config in apps.get_app_configs() if config.models_module][-1]


def _group_names(user) -> set[str]:
    # Cached on the user object so that a page asks the database once.
    if not hasattr(user, "_group_names_cache"):
        user._group_names_cache = set(user.groups.values_list("name", flat=True))
    return user._group_names_cache


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or ADMIN_GROUP in _group_names(user))


def is_council(user) -> bool:
    return user.is_authenticated and COUNCIL_GROUP in _group_names(user)


def membership_of(user):
    """The user's branch membership as it stands now, or None (asked once per user object):
    a transfer whose date has come counts at once (branches.transfers)."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_membership_cache"):
        user._membership_cache = current_membership(user)
    return user._membership_cache


def has_role(user) -> bool:
    """Admin, council member or member of a branch: a logged-in user without any of these
    has nothing to open yet."""
    return is_admin(user) or is_council(user) or membership_of(user) is not None


def ensure_role_groups(app_config=None, **kwargs):
    """Create the role groups and give them their permissions (run after every migrate, as
    a post_migrate receiver once the last app has had its own: then every app's
    permissions exist)."""
    if app_config is not None and app_config is not _last_app_migrated():
        return
    admin_group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    admin_perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS) | (
        Permission.objects.filter(content_type__app_label="auth", content_type__model="user")
    )
    admin_group.permissions.set(admin_perms)
    council_group, _ = Group.objects.get_or_create(name=COUNCIL_GROUP)
    council_group.permissions.set(
        Permission.objects.filter(content_type__app_label="kpis", codename__startswith="view_")
    )
