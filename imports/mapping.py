"""The mapping step: what an admin says the columns the importer did not recognise are.

A sheet whose header row is recognised only in part leaves unknown columns
(`Layout.unknown`). Each needs a choice — one of the sheet kind's columns, or 取り込まない —
before the file can be written. A choice is remembered per header row (its normalised
signature, `HeaderMapping`) and used for the next file with the same header row; choices
given for one import (the preview's form, the command's --map) come on top.
"""

from imports.columns import normalise
from imports.headers import SCHEMAS, find_layout, header_signature
from imports.models import HeaderMapping
from imports.problems import Problem
from imports.reading import HEADER_SCAN_ROWS, Workbook
from imports.validation import Lookups, Validated, validate

SKIP = ""  # the choice 取り込まない
SKIP_LABEL = "取り込まない"


def validate_mapped(workbook: Workbook, choices: dict[str, str] | None = None) -> Validated:
    """Validate with the remembered choices for the workbook's header rows and `choices`
    (normalised header → column key or ""), and say what each unknown column may be."""
    chosen = {**remembered(workbook), **(choices or {})}
    validated = validate(workbook, Lookups(), chosen)
    validated.unmapped = describe_unmapped(workbook, validated.unmapped, chosen)
    return validated


def remembered(workbook: Workbook) -> dict[str, str]:
    """The remembered choices for every row that may be a header row (one query)."""
    signatures = {signature for _, _, _, signature in _candidate_rows(workbook)}
    choices = {}
    for mapping in HeaderMapping.objects.filter(signature__in=signatures).order_by("updated_at"):
        choices.update(mapping.choices)
    return choices


def _candidate_rows(workbook: Workbook):
    """(sheet, row number, texts, signature) of the rows a header may be on."""
    for sheet in workbook.sheets:
        if sheet.hidden:
            continue
        for number, texts in sheet.rows:
            if number > HEADER_SCAN_ROWS:
                break
            yield sheet, number, texts, header_signature(texts)


def describe_unmapped(workbook: Workbook, unmapped: list[dict], choices: dict) -> list[dict]:
    """Each unknown column with its header row and the columns it may be: those of the
    sheet's kind that the header row does not already have."""
    if not unmapped:
        return []
    sheets = {sheet.name: sheet for sheet in workbook.sheets}
    options = {}
    for name in {entry["sheet"] for entry in unmapped}:
        layout, _ = find_layout(sheets[name].rows, choices)
        taken = {column.key for column in layout.columns.values()}
        options[name] = (
            layout.header_row,
            [[c.key, c.label] for c in SCHEMAS[layout.kind] if c.key not in taken],
        )
    return [
        {**entry, "row": options[entry["sheet"]][0], "options": options[entry["sheet"]][1]}
        for entry in unmapped
    ]


def unmapped_problems(unmapped: list[dict]) -> list[Problem]:
    """What blocks a write while a column waits for its choice, naming the column."""
    return [
        Problem(
            f"見出し「{entry['header']}」が何の列か分かりません。確認画面で取り込む項目か"
            f"「{SKIP_LABEL}」を選んでください（コマンドでは --map '{entry['header']}=項目' "
            "を指定します）",
            entry["sheet"],
            entry.get("row"),
            entry["column"],
        )
        for entry in unmapped
    ]


def remember(unmapped: list[dict], answers: dict[int, str], user) -> dict[str, str]:
    """Save the admin's answers (index in `unmapped` → column key or "") for each header
    row, and return them as choices (normalised header → key)."""
    by_signature: dict[str, dict[str, tuple[str, str]]] = {}
    for index, key in answers.items():
        entry = unmapped[index]
        row = by_signature.setdefault(entry["signature"], {})
        row[normalise(entry["header"])] = (entry["header"], key)
    chosen = {}
    for signature, row in by_signature.items():
        _save(signature, row, user)
        chosen.update({header: key for header, (_, key) in row.items()})
    return chosen


def _save(signature: str, row: dict[str, tuple[str, str]], user) -> None:
    """Add {normalised header: (header as written, key)} to the header row's mapping."""
    mapping, _ = HeaderMapping.objects.get_or_create(signature=signature)
    mapping.headers = list(dict.fromkeys(mapping.headers + [text for text, _ in row.values()]))
    mapping.choices = {**mapping.choices, **{header: key for header, (_, key) in row.items()}}
    mapping.updated_by = user
    mapping.save()


def parse_map_options(options: list[str]) -> dict[str, str]:
    """The command's `--map 'ヘッダ=field'` (field `-` or empty for 取り込まない) as choices;
    ValueError naming the option that is not of that form or names no column."""
    keys = {column.key for schema in SCHEMAS.values() for column in schema}
    choices = {}
    for option in options:
        header, sep, key = option.partition("=")
        header, key = header.strip(), key.strip()
        if not sep or not header:
            raise ValueError(f"--map「{option}」は 'ヘッダ=項目' の形で指定してください。")
        key = SKIP if key in ("", "-") else key
        if key and key not in keys:
            known = "、".join(sorted(keys))
            raise ValueError(
                f"--map「{option}」の項目「{key}」はありません。使える項目: {known}"
                f"（取り込まないときは '{header}=-'）"
            )
        choices[normalise(header)] = key
    return choices


def remember_for_command(workbook: Workbook, choices: dict[str, str], user) -> list[str]:
    """Remember the command's --map choices for the header rows of the workbook that have
    those headers, as the preview's form does. Returns the --map headers no header row has
    (and then remembers nothing)."""
    rows = {}
    chosen = {**remembered(workbook), **choices}
    for sheet in workbook.sheets:
        if sheet.hidden:
            continue
        layout, _ = find_layout(sheet.rows, chosen)
        if layout is not None:
            rows[layout.signature] = dict(sheet.rows)[layout.header_row]
    found = {
        signature: {
            normalise(t): (t, choices[normalise(t)]) for t in texts if normalise(t) in choices
        }
        for signature, texts in rows.items()
    }
    unused = [h for h in choices if not any(h in row for row in found.values())]
    if not unused:
        for signature, row in found.items():
            if row:
                _save(signature, row, user)
    return unused
