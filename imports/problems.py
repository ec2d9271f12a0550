"""What the importer tells an admin: where (sheet, row, column) and what is wrong."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""  # a column letter, "H"

    @property
    def place(self) -> str:
        """`KPI!H14`, `KPI!14行`, `KPI` or "" for the file as a whole."""
        if self.row and self.column:
            return f"{self.sheet}!{self.column}{self.row}"
        if self.row:
            return f"{self.sheet}!{self.row}行"
        return self.sheet

    def __str__(self):
        return f"{self.place}: {self.message}" if self.place else self.message

    def as_dict(self) -> dict:
        return {**asdict(self), "place": self.place, "text": str(self)}


class CellError(Exception):
    """A cell's value cannot be read; the message names the value and says what to write."""
