from django.contrib import admin

from branches.models import Branch, Membership


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "prefecture", "region", "order"]
    list_filter = ["region"]
    search_fields = ["code", "name", "prefecture"]
    ordering = ["order", "code"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "branch", "role"]
    list_filter = ["role", "branch__region", "branch"]
    search_fields = ["user__username", "user__last_name", "user__first_name", "branch__name"]
    autocomplete_fields = ["user", "branch"]
    list_select_related = ["user", "branch"]
