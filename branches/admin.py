from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from simple_history.models import registered_models
from simple_history.utils import get_history_model_for_model

from branches.accounts import LastLoginFilter
from branches.models import Branch, Membership, Posting
from branches.people import display_name, full_name


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "prefecture", "region", "order"]
    list_filter = ["region"]
    search_fields = ["code", "name", "prefecture"]
    ordering = ["order", "code"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "user_name", "branch", "role"]
    list_filter = ["role", "branch__region", "branch"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "branch__name"]
    autocomplete_fields = ["user", "branch"]
    list_select_related = ["user", "branch"]

    @admin.display(description="氏名", ordering="user__last_name")
    def user_name(self, membership):
        return full_name(membership.user)


@admin.register(Posting)
class PostingAdmin(admin.ModelAdmin):
    """Transfers, past and waiting (配属履歴). Read only: a posting is the record the saves
    of its time are named by (branches.transfers), and transfers are entered with the
    accounts (/people/users/). A transfer that has not taken effect may be cancelled."""

    list_display = ["user", "user_name", "branch", "role", "starts_on", "applied", "recorded_by"]
    list_filter = ["applied", "role", "branch__region", "branch"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "branch__name"]
    list_select_related = ["user", "branch", "recorded_by"]
    actions = None  # one by one, from a waiting transfer's own page

    @admin.display(description="氏名", ordering="user__last_name")
    def user_name(self, posting):
        return full_name(posting.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Refused in the views, not by has_delete_permission: deleting an account deletes its
    # postings with it, and the admin would refuse that for lack of this permission.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {}), "show_delete": not self._applied(request, object_id)}
        return super().change_view(request, object_id, form_url, context)

    def delete_view(self, request, object_id, extra_context=None):
        if self._applied(request, object_id):
            raise PermissionDenied
        return super().delete_view(request, object_id, extra_context)

    def _applied(self, request, object_id) -> bool:
        posting = self.get_object(request, unquote(object_id))
        return posting is not None and posting.applied


User = get_user_model()
# What makes an account more powerful than its role: only a superuser may hand it out.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")

admin.site.unregister(User)


def recorded_work(user) -> list[str]:
    """The history a person's saves left, per kind of record: 「KPIの変更履歴 12件」. Deleting the
    account would leave those rows without a name (their user columns are SET_NULL)."""
    work = []
    for model in registered_models.values():
        history = get_history_model_for_model(model)
        count = history.objects.filter(history_user=user).count()
        if count:
            work.append(f"{model._meta.verbose_name}の変更履歴 {count:,}件")
    return work


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Head-office admins (本部管理者) manage accounts but cannot raise anyone's privileges,
    their own included, nor touch a superuser's account (whose password they could
    otherwise set, and then log in as the superuser)."""

    # The name in one column, 姓 名, instead of Django's separate 名 and 姓 columns.
    list_display = ["username", "name", "email", "is_staff"]
    list_filter = [*UserAdmin.list_filter, LastLoginFilter]

    @admin.display(description="氏名", ordering="last_name")
    def name(self, user):
        return full_name(user)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, *PRIVILEGE_FIELDS)

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(is_superuser=False)

    def get_deleted_objects(self, objs, request):
        """Someone who saved anything is deactivated, not deleted: the history keeps naming
        them. The admin's delete page (and the bulk action) lists them as protected."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected = list(protected)
        for user in objs:
            work = recorded_work(user)
            if work:
                protected.append(
                    f"{display_name(user)}: {'、'.join(work)}。"
                    "履歴に名前を残すため、削除せずに「有効」のチェックを外してください。"
                )
        return deleted, counts, perms_needed, protected
