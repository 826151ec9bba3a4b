"""CSV import and export of time entries (SPEC 5; the layouts are documented in docs/csv.md).

Three layouts are read: ours (what ``write_entries_csv`` writes), Toggl Track's and
Clockify's detailed exports; one is written (ours).
"""

from audits.csvio.exporting import export_queryset, write_entries_csv
from audits.csvio.fields import local_moment, match_tag
from audits.csvio.importing import ImportReport, RowError, import_entries
from audits.csvio.reading import (
    FORMAT_LABELS,
    MAX_BYTES,
    MAX_ROWS,
    OUR_COLUMNS,
    CsvFileError,
    CsvFormat,
    decode,
    detect_format,
    read_table,
)

__all__ = [
    "FORMAT_LABELS",
    "MAX_BYTES",
    "MAX_ROWS",
    "OUR_COLUMNS",
    "CsvFileError",
    "CsvFormat",
    "ImportReport",
    "RowError",
    "decode",
    "detect_format",
    "export_queryset",
    "import_entries",
    "local_moment",
    "match_tag",
    "read_table",
    "write_entries_csv",
]
