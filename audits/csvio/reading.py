"""Reading a CSV upload: encoding, the table, the format its header names (docs/csv.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from enum import StrEnum

from audits.models import ENTRY_FIELDS

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

# The entry's fields (audits.models.ENTRY_FIELDS), external_id next to id (a file is matched
# to stored entries by them) and without the computed duration.
OUR_COLUMNS = [
    "id",
    "external_id",
    *(f for f in ENTRY_FIELDS if f not in ("id", "external_id", "duration_hours")),
]
OUR_REQUIRED = ["started_at", "ended_at", "activity"]
# Toggl Track and Clockify detailed exports share these (headers compared case-insensitively).
TRACKER_REQUIRED = ["start date", "start time", "end date", "end time", "description"]
# Headers only Clockify writes; a tracker export without any of them is read as Toggl's.
CLOCKIFY_MARKERS = (
    "duration (h)",
    "duration (decimal)",
    "time (h)",
    "time (decimal)",
    "billable rate",
    "group",
)


class CsvFormat(StrEnum):
    OURS = "ours"
    TOGGL = "toggl"
    CLOCKIFY = "clockify"


FORMAT_LABELS = {
    CsvFormat.OURS: "msp-ops",
    CsvFormat.TOGGL: "Toggl Track detailed",
    CsvFormat.CLOCKIFY: "Clockify detailed",
}


class CsvFileError(Exception):
    """The file as a whole cannot be read; one message says why. Nothing was stored."""


# --- reading the file -----------------------------------------------------------------


def decode(data: bytes) -> str:
    """Text of an uploaded file: UTF-8 (a leading BOM is dropped) or UTF-16 with its BOM."""
    if not data.strip():
        raise CsvFileError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise CsvFileError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvFileError("The file starts like UTF-16 text but cannot be decoded as such.") from None
    if b"\x00" in data:
        raise CsvFileError("This is not a CSV file (it holds binary data); export or save it as CSV.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} at position {error.start}); "
            "save it as 'CSV UTF-8' and upload it again."
        ) from None


def normal_header(header: str) -> str:
    return " ".join(header.strip().lower().split())


def read_table(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(row number, fields)]); row 1 is the header, blank lines keep their number."""
    # strict: an unclosed quote is an error, not a field swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as error:
        raise CsvFileError(f"This is not a readable CSV file (line {reader.line_num}): {error}.") from None
    numbered = [(number, record) for number, record in enumerate(records, start=1)]
    while numbered and not any(cell.strip() for cell in numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise CsvFileError("The file is empty.")
    (_, header), *rows = numbered
    header = [cell.strip() for cell in header]
    seen: set[str] = set()
    for name in header:
        if name and normal_header(name) in seen:
            raise CsvFileError(f"Column '{name}' appears twice in the header.")
        seen.add(normal_header(name))
    rows = [(number, record) for number, record in rows if any(cell.strip() for cell in record)]
    if not rows:
        raise CsvFileError("The file has a header but no rows.")
    if len(rows) > MAX_ROWS:
        raise CsvFileError(
            f"The file has {len(rows)} rows; at most {MAX_ROWS} are imported at once. "
            "Split it into smaller files."
        )
    return header, rows


def detect_format(header: Iterable[str]) -> CsvFormat:
    names = {normal_header(name) for name in header}
    if set(OUR_REQUIRED) <= names:
        return CsvFormat.OURS
    if set(TRACKER_REQUIRED) <= names:
        if any(name.startswith(CLOCKIFY_MARKERS) for name in names):
            return CsvFormat.CLOCKIFY
        return CsvFormat.TOGGL
    raise CsvFileError(
        "Unrecognised header: expected the msp-ops layout (started_at, ended_at, activity, ...), "
        "a Toggl Track detailed export or a Clockify detailed export."
    )


def check_required(header: list[str], fmt: CsvFormat) -> None:
    names = {normal_header(name) for name in header}
    required = OUR_REQUIRED if fmt == CsvFormat.OURS else TRACKER_REQUIRED
    if missing := [name for name in required if name not in names]:
        columns = ", ".join(display_name(name, fmt) for name in missing)
        raise CsvFileError(f"Missing required column(s) for the {FORMAT_LABELS[fmt]} layout: {columns}.")


def display_name(name: str, fmt: CsvFormat) -> str:
    return name if fmt == CsvFormat.OURS else name.capitalize()
