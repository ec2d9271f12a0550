"""How a person's name is written on every page, in the history and in the admin."""


def full_name(user) -> str:
    """姓 名, as Japanese writes names: 「埼玉 担当者」 for last name 埼玉 and first name 担当者;
    the one that is set when the other is blank; "" when neither is."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return " ".join(part for part in (user.last_name.strip(), user.first_name.strip()) if part)


def display_name(user) -> str:
    """The person's full name (姓 名), else the user name; "" for nobody (a deleted account,
    an anonymous visitor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return full_name(user) or user.username
