"""Users in and out as a table (利用者の一括登録): CSV or xlsx with the columns 姓, 名 (or 氏名
"姓 名"), メールアドレス, 支部, 役割, 有効 — and ログインID, which the export writes so that a
person without an e-mail address is found again.

The same three steps as the workbooks: `read` the file into rows, `plan` what each row would
change (new / changed, old → new / unchanged / error, with its row number), and `apply` the
plan in one transaction — all rows or none. A file with any error row writes nothing.

A row finds its person by ログインID, else by e-mail (case does not matter). A new person's
login ID is the e-mail address; they get an unusable password and a mail to set their own.
A change of branch or role is a transfer (branches.transfers) from the row's 発令日, or at
once: the history keeps the branch they belonged to before. Nobody is deleted: 有効 = 無効
deactivates, and the history keeps their name.
"""

import csv
import datetime
import hashlib
import io
import json
import re
from dataclasses import dataclass, field

from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from branches import tasks, transfers
from branches.models import Membership, Posting
from branches.roles import ADMIN_GROUP, COUNCIL_GROUP
from imports.columns import normalise
from imports.reading import UnreadableFile, read_workbook
from imports.validation import Lookups
from kpis.exports import neutralise

User = get_user_model()

# The roles as people write them, and what each means in the app.
STAFF, MANAGER = Membership.Role.STAFF.label, Membership.Role.MANAGER.label
ROLES = (STAFF, MANAGER, ADMIN_GROUP, COUNCIL_GROUP)
BRANCH_ROLES = {STAFF: Membership.Role.STAFF, MANAGER: Membership.Role.MANAGER}
GROUP_ROLES = (ADMIN_GROUP, COUNCIL_GROUP)
ACTIVE, INACTIVE = "有効", "無効"
ACTIVE_WORDS = {normalise(w): True for w in (ACTIVE, "○", "〇", "1", "true", "はい", "yes")}
ACTIVE_WORDS |= {normalise(w): False for w in (INACTIVE, "×", "0", "false", "いいえ", "no")}

# The export's columns, in its order; the import reads them in any order.
COLUMNS = ("ログインID", "姓", "名", "メールアドレス", "支部", "役割", "有効")
HEADERS = {
    "ログインID": ("ログインID", "ユーザー名", "ユーザーID", "username"),
    "姓": ("姓", "氏"),
    "名": ("名",),
    "氏名": ("氏名", "名前"),
    "メールアドレス": ("メールアドレス", "メール", "email", "e-mail", "mail"),
    "支部": ("支部", "支部名", "支部コード", "所属"),
    "役割": ("役割", "権限", "ロール"),
    "有効": ("有効", "有効/無効", "状態"),
    # Optional: the date a branch or role change takes effect (blank: today).
    "発令日": ("発令日", "異動日", "異動発令日"),
}
HEADER_OF = {normalise(alias): column for column, aliases in HEADERS.items() for alias in aliases}
NAME_SPLIT = re.compile(r"[\s\u3000]+")
DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


class UsersFileError(Exception):
    """The file as a whole cannot be read as a users table; the message says why."""


@dataclass
class Row:
    number: int
    cells: dict[str, str]


@dataclass
class Wanted:
    """What a row asks for, read and checked."""

    username: str
    last_name: str
    first_name: str
    email: str
    branch: object  # Branch | None
    role: str  # one of ROLES, or "" (no role)
    is_active: bool
    starts_on: datetime.date | None = None  # of a branch or role change; None: today


@dataclass
class Planned:
    number: int
    status: str  # "new" | "changed" | "unchanged" | "error"
    label: str  # who the row is about, as the preview shows it
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (column, old, new)
    errors: list[str] = field(default_factory=list)
    wanted: Wanted | None = None
    user: object = None

    STATUS_LABELS = {"new": "新規", "changed": "変更", "unchanged": "変更なし", "error": "エラー"}

    @property
    def status_label(self) -> str:
        return self.STATUS_LABELS[self.status]


@dataclass
class Plan:
    rows: list[Planned]

    @property
    def has_errors(self) -> bool:
        return any(row.status == "error" for row in self.rows)

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    def digest(self) -> str:
        """What the preview showed: a confirm applies the plan only while it is the same."""
        shown = [(r.number, r.status, r.changes, r.errors) for r in self.rows]
        return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()


# --- reading ----------------------------------------------------------------------------------


def read(content: bytes, file_name: str) -> list[Row]:
    """The file's rows under their columns' names (CSV or xlsx, the first visible sheet)."""
    try:
        workbook = read_workbook(content, file_name)
    except UnreadableFile as error:
        raise UsersFileError(str(error)) from error
    sheet = next((sheet for sheet in workbook.sheets if not sheet.hidden and sheet.rows), None)
    if sheet is None:
        raise UsersFileError("ファイルに行がありません。")
    (_, header), *body = sheet.rows
    columns = [HEADER_OF.get(normalise(text)) for text in header]
    found = set(columns) - {None}
    missing = [c for c in ("メールアドレス", "支部", "役割") if c not in found]
    if not ({"姓", "名"} <= found or "氏名" in found):
        missing.insert(0, "姓・名（または氏名）")
    if missing:
        raise UsersFileError(
            f"1行目（見出し行）に「{'」「'.join(missing)}」の列がありません。"
            f"見出しは {'・'.join(c for c in COLUMNS if c != 'ログインID')} です。"
        )
    # Every column of the header is in every row's cells ("" when blank): a column the file
    # does not have is one the import leaves as it is.
    rows = []
    for number, texts in body:
        padded = (*texts, *[""] * (len(columns) - len(texts)))
        cells = {column: text for column, text in zip(columns, padded, strict=False) if column}
        rows.append(Row(number, cells))
    return rows


# --- planning ---------------------------------------------------------------------------------


def role_of(user) -> str:
    groups = {group.name for group in user.groups.all()}
    for name in (ADMIN_GROUP, COUNCIL_GROUP):
        if name in groups:
            return name
    membership = _membership(user)
    return membership.get_role_display() if membership else ""


def _membership(user):
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def _current(user) -> dict[str, str]:
    membership, role = _membership(user), role_of(user)
    return {
        "ログインID": user.username,
        "姓": user.last_name,
        "名": user.first_name,
        "メールアドレス": user.email,
        # An admin or council member who also has a membership is written as their role.
        "支部": membership.branch.name if membership and role in BRANCH_ROLES else "",
        "役割": role,
        "有効": ACTIVE if user.is_active else INACTIVE,
    }


def _wanted_values(wanted: Wanted) -> dict[str, str]:
    return {
        "ログインID": wanted.username,
        "姓": wanted.last_name,
        "名": wanted.first_name,
        "メールアドレス": wanted.email,
        "支部": wanted.branch.name if wanted.branch else "",
        "役割": wanted.role,
        "有効": ACTIVE if wanted.is_active else INACTIVE,
    }


def _people():
    return User.objects.prefetch_related("groups").select_related("membership__branch")


def plan(rows: list[Row], by) -> Plan:
    """What each row would change, and every problem, named by row and column."""
    lookups = Lookups()
    people = list(_people())
    by_username = {user.username: user for user in people}
    by_email = {user.email.lower(): user for user in people if user.email}
    pending = {
        (p.user_id, p.branch_id, p.role, p.starts_on)
        for p in Posting.objects.filter(applied=False, effective_at__gt=timezone.now())
    }
    seen_emails: dict[str, int] = {}
    seen_users: dict[int, int] = {}
    result = Plan(rows=[])
    for row in rows:
        planned = _plan_row(row, lookups, by_username, by_email, by, pending)
        email = planned.wanted.email if planned.wanted else ""
        if email:
            if email.lower() in seen_emails:
                planned.errors.append(
                    f"{row.number}行目「メールアドレス」{email} は"
                    f"{seen_emails[email.lower()]}行目と重複しています。"
                )
            seen_emails.setdefault(email.lower(), row.number)
        if planned.user is not None:
            if planned.user.pk in seen_users:
                planned.errors.append(
                    f"{row.number}行目は{seen_users[planned.user.pk]}行目と同じ利用者です。"
                    "1人1行にしてください。"
                )
            seen_users.setdefault(planned.user.pk, row.number)
        if planned.errors:
            planned.status, planned.changes = "error", []
        result.rows.append(planned)
    return result


def _plan_row(row: Row, lookups: Lookups, by_username, by_email, by, pending) -> Planned:
    cells = row.cells
    errors = []

    def problem(column: str, message: str) -> None:
        errors.append(f"{row.number}行目「{column}」{message}")

    last, first = cells.get("姓", ""), cells.get("名", "")
    full_name = cells.get("氏名", "").strip()
    if full_name and not (last or first):
        parts = NAME_SPLIT.split(full_name, maxsplit=1)
        if len(parts) == 2:
            last, first = parts
        else:
            problem(
                "氏名",
                f"「{full_name}」は姓と名の間を空白で区切ってください（例：埼玉 太郎）。",
            )

    email = cells.get("メールアドレス", "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problem("メールアドレス", f"「{email}」はメールアドレスとして正しくありません。")
            email = ""

    # The person: by login ID when the row has one, else by e-mail; or a new person.
    username = cells.get("ログインID", "").strip()
    user = by_username.get(username) if username else by_email.get(email.lower())
    owner = by_email.get(email.lower()) if email else None
    if owner is not None and owner != user:
        problem(
            "メールアドレス", f"{email} は別の利用者（ログインID {owner.username}）が使っています。"
        )
    if user is None:
        if not (last or first or full_name):
            problem("氏名" if "氏名" in cells else "姓", "が空欄です。")
        if not email:
            problem(
                "メールアドレス", "が空欄です。新しい利用者にはパスワード設定のメールを送ります。"
            )
        username = username or email
        if username in by_username:
            problem("ログインID", f"{username} は別の利用者が使っています。")
    elif user.is_superuser:
        problem(
            "ログインID", f"{user.username} はスーパーユーザーです。管理画面で変更してください。"
        )

    role_text = cells.get("役割", "").strip()
    role = next((r for r in ROLES if normalise(r) == normalise(role_text)), None)
    if role is None and role_text:
        problem("役割", f"「{role_text}」は役割として分かりません（{'・'.join(ROLES)}）。")
    branch_text = cells.get("支部", "").strip()
    branch = lookups.branch(branch_text) if branch_text else None
    if branch_text and branch is None:
        problem("支部", f"「{branch_text}」という支部はありません（例：熊本、熊本支部、43）。")
    if role in BRANCH_ROLES and not branch_text:
        problem("支部", f"が空欄です。{role}は支部を書いてください。")
    if role in GROUP_ROLES and branch_text:
        problem("支部", f"{role}は支部に属しません。支部を空欄にしてください。")
    if not role_text and branch_text:
        problem("役割", f"が空欄です（{'・'.join(BRANCH_ROLES)}）。")

    active_text = cells.get("有効", "").strip()
    is_active = ACTIVE_WORDS.get(normalise(active_text), None) if active_text else True
    if is_active is None:
        problem("有効", f"「{active_text}」は「{ACTIVE}」か「{INACTIVE}」で書いてください。")

    starts_text = cells.get("発令日", "").strip()
    starts_on = _date(starts_text) if starts_text else None
    if starts_text and starts_on is None:
        problem("発令日", f"「{starts_text}」は日付として読めません（例：2025-04-01）。")

    # As in the user admin: only a superuser hands out (or takes back) the admin's powers.
    was_admin = user is not None and role_of(user) == ADMIN_GROUP
    if (role == ADMIN_GROUP) != was_admin and not by.is_superuser:
        problem("役割", f"{ADMIN_GROUP}の役割を付け外しできるのはスーパーユーザーだけです。")

    if user is not None:  # a column the file does not have stays as it is
        username = username or user.username
        if not ({"姓", "名", "氏名"} & cells.keys()):
            last, first = user.last_name, user.first_name
        if "有効" not in cells:
            is_active = user.is_active
    label = f"{last} {first}".strip() or email or username
    if starts_on is not None and starts_on <= timezone.localdate():
        starts_on = None  # in effect at once, as a change without a date
    wanted = Wanted(username, last, first, email, branch, role or "", bool(is_active), starts_on)
    if errors:
        return Planned(row.number, "error", label, errors=errors, user=user, wanted=wanted)
    new = _wanted_values(wanted)
    if user is None:
        changes = [(c, "", new[c]) for c in COLUMNS if new[c]]
        return Planned(row.number, "new", label, changes, wanted=wanted)
    old = _current(user)
    changes = [(c, old[c], new[c]) for c in COLUMNS if old[c] != new[c]]
    if wanted.starts_on and wanted.role in BRANCH_ROLES:
        posting = (user.pk, branch.pk, BRANCH_ROLES[wanted.role], wanted.starts_on)
        if posting in pending:  # recorded by an earlier import of the same file
            changes = [change for change in changes if change[0] not in ("支部", "役割")]
        else:
            changes = [_dated(change, wanted.starts_on) for change in changes]
    status = "changed" if changes else "unchanged"
    return Planned(row.number, status, label, changes, wanted=wanted, user=user)


def _date(text: str) -> datetime.date | None:
    match = DATE.fullmatch(normalise(text))
    try:
        return datetime.date(*map(int, match.groups())) if match else None
    except ValueError:
        return None


def _dated(change: tuple[str, str, str], starts_on: datetime.date) -> tuple[str, str, str]:
    column, old, new = change
    if column in ("支部", "役割"):
        return column, old, f"{new}（{starts_on:%Y-%m-%d}から）"
    return change


# --- applying ---------------------------------------------------------------------------------


@transaction.atomic
def apply(plan: Plan, by) -> list:
    """Write every row of an error-free plan (all or nothing); the users created."""
    if plan.has_errors:
        raise ValueError("A plan with errors is never applied.")
    groups = {group.name: group for group in Group.objects.filter(name__in=GROUP_ROLES)}
    today = timezone.localdate()
    created = []
    for row in plan.rows:
        if row.status not in ("new", "changed"):
            continue
        wanted, user = row.wanted, row.user
        if user is None:
            user = User(username=wanted.username)
            user.set_unusable_password()
            created.append(user)
        user.last_name, user.first_name = wanted.last_name, wanted.first_name
        user.email, user.is_active = wanted.email, wanted.is_active
        # The Django admin is the head office's tool: it comes and goes with the role.
        if wanted.role == ADMIN_GROUP:
            user.is_staff = True
        elif ("役割", ADMIN_GROUP, wanted.role) in row.changes:
            user.is_staff = False
        user.save()
        moves = any(column in ("支部", "役割") for column, _, _ in row.changes)
        _set_role(user, wanted, groups, today, by, moves)
    return created


def _set_role(user, wanted: Wanted, groups: dict, today: datetime.date, by, moves: bool) -> None:
    user.groups.remove(*[group for name, group in groups.items() if name != wanted.role])
    if wanted.role in groups:
        user.groups.add(groups[wanted.role])
    if wanted.role not in BRANCH_ROLES:
        Membership.objects.filter(user=user).delete()
    elif moves:
        role = BRANCH_ROLES[wanted.role]
        transfers.transfer(user, wanted.branch, role, wanted.starts_on or today, by=by)


# --- export -----------------------------------------------------------------------------------


def export_rows() -> list[dict[str, str]]:
    """Every user but the superusers (whom the admin pages do not show either), by login ID."""
    people = _people().filter(is_superuser=False).order_by("username")
    return [_current(user) for user in people]


def export_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in export_rows():
        writer.writerow([neutralise(row[c]) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def export_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "利用者"
    sheet.append(COLUMNS)
    for row in export_rows():
        sheet.append([neutralise(row[c]) for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- login report -----------------------------------------------------------------------------

STALE_DAYS = 90


class LastLoginFilter(admin.SimpleListFilter):
    """The login report's two lists as a filter of the user admin."""

    title = "最終ログイン"
    parameter_name = "login"

    def lookups(self, request, model_admin):
        return [("never", "一度もログインしていない"), ("stale", f"{STALE_DAYS}日以上前")]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(last_login__isnull=True)
        if self.value() == "stale":
            since = timezone.now() - datetime.timedelta(days=STALE_DAYS)
            return queryset.filter(last_login__lt=since)
        return queryset


@dataclass
class LoginReport:
    never: list
    stale: list
    since: datetime.datetime


def login_report(now: datetime.datetime | None = None) -> LoginReport:
    """Active people who never logged in, and those whose last login is older than 90 days."""
    since = (now or timezone.now()) - datetime.timedelta(days=STALE_DAYS)
    people = (
        User.objects.filter(is_active=True, is_superuser=False)
        .select_related("membership__branch")
        .prefetch_related("groups")
    )
    never = list(people.filter(last_login__isnull=True).order_by("date_joined", "username"))
    stale = list(people.filter(last_login__lt=since).order_by("last_login", "username"))
    for user in never + stale:
        membership = _membership(user)
        place = membership.branch.name if membership else ""
        user.role_label = " ".join(part for part in (place, role_of(user)) if part)
    return LoginReport(never=never, stale=stale, since=since)


# --- password mails ---------------------------------------------------------------------------


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, its mail sent through the task queue. Someone the users import
    created has no password yet (unusable) and may set one this way too."""

    def get_users(self, email):
        return User._default_manager.filter(email__iexact=email, is_active=True)

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        tasks.send_after_commit(context["user"], "reset", context["domain"], context["protocol"])


def invite(users, request) -> None:
    """Send each new person the mail to set their first password."""
    protocol = "https" if request.is_secure() else "http"
    for user in users:
        if user.email and user.is_active:
            tasks.send_after_commit(user, "invitation", request.get_host(), protocol)
