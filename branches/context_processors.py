from branches.roles import is_admin, is_council, membership_of


def roles(request):
    """Expose the user's role to templates (navigation shows what the role may open)."""
    user = request.user
    return {
        "is_admin_user": is_admin(user),
        "is_council_user": is_council(user),
        "user_membership": membership_of(user),
    }
