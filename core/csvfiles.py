"""CSV files in and out, the same way for every import (members, voucher codes, static segment lists)
and every export.

Imports: the upload is checked once (size, UTF-8, not empty), then each service reads it with
`csv_rows`, collects a `RowError` per bad line (the line number of the file, the header being line 1)
and calls `rows_settle` with the operator's `ImportMode`: all-or-nothing raises `ImportRejected`
before anything is written (the services are atomic, so a later refusal rolls back too), valid-only
returns the bad lines, which the service reports as skipped. The admin pages show either through
`import_rejected_into_form` / `import_report_message`.

Exports: `formula_safe` disarms cells a spreadsheet would run as a formula (CSV injection);
`formula_unquote` undoes it when such a file is imported back.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

# Staff upload these by hand: a few MB is already hundreds of thousands of lines.
IMPORT_MAX_BYTES = getattr(settings, "IMPORT_MAX_BYTES", 10 * 1024 * 1024)
# A form or message names at most this many bad lines; the count says how many more there are.
LINES_SHOWN = 50
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("Import nothing if any line is bad")
    VALID_ONLY = "valid", _("Import the valid lines and skip the bad ones")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return gettext("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows added, rows updated, rows already there (nothing to do), bad lines skipped."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RowError] = field(default_factory=list)

    @property
    def skipped_lines(self) -> list[int]:
        return [e.line for e in self.skipped]


class ImportRejected(DomainError):
    """All-or-nothing import with bad lines: nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(
            "import_rejected",
            gettext("%(count)d bad lines: nothing was imported. Fix them, or choose to skip bad lines.")
            % {"count": len(errors)},
            fields={"file": [str(e) for e in errors[:LINES_SHOWN]]},
        )


def rows_settle(errors: list[RowError], mode: str) -> list[RowError]:
    """The operator's choice, in one place: refuse the whole file, or skip the bad lines."""
    errors = sorted(errors, key=lambda e: e.line)
    if errors and ImportMode(mode) == ImportMode.ALL_OR_NOTHING:
        raise ImportRejected(errors)
    return errors


def csv_rows(data: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for each non-blank record. A record broken beyond reading (a stray NUL,
    an unclosed quote at the end) refuses the file with its line: there is no row left to skip."""
    reader = csv.reader(io.StringIO(data, newline=None))  # \r\n, \n and old Mac \r alike
    line = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRejected([RowError(line, gettext("This line is not valid CSV (%(why)s).") % {"why": exc})]) from exc


def upload_text(upload) -> str:
    """The uploaded file as text, or a ValidationError that says what is wrong with it."""
    if upload.size > IMPORT_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB. Split it into smaller files."),
            code="too_large",
            params={"size": round(upload.size / 1048576, 1), "limit": round(IMPORT_MAX_BYTES / 1048576, 1)},
        )
    raw = b"".join(upload.chunks())
    if hasattr(upload, "seek"):
        upload.seek(0)  # django-import-export reads it again
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationError(
            _("The file is not UTF-8 text (line %(line)d). Save it as 'CSV UTF-8' and upload it again."),
            code="encoding",
            params={"line": line},
        ) from exc
    if not text.strip():
        raise ValidationError(_("The file is empty."), code="empty")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValidationError(
            _("The file holds binary data (line %(line)d): upload a CSV text file."),
            code="binary",
            params={"line": line},
        )
    return text


class CsvImportForm(forms.Form):
    """The upload and the operator's choice; `cleaned_data["file"]` is the checked text."""

    file = forms.FileField(label=_("CSV file"))
    mode = forms.TypedChoiceField(
        label=_("If some lines are bad"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        required=False,
        empty_value=ImportMode.ALL_OR_NOTHING,  # the safe choice when a client leaves it out
        widget=forms.RadioSelect,
    )

    def clean_file(self) -> str:
        return upload_text(self.cleaned_data["file"])


def import_rejected_into_form(form: forms.Form, exc: DomainError) -> None:
    """A refused import on its form: the summary, then each bad line."""
    form.add_error(None, exc.message)
    for message in exc.fields.get("file", []):
        form.add_error("file", message)
    errors = getattr(exc, "errors", [])
    if len(errors) > LINES_SHOWN:
        form.add_error("file", gettext("... and %(count)d more bad lines.") % {"count": len(errors) - LINES_SHOWN})


def skipped_message(skipped: list[RowError]) -> str:
    shown = "; ".join(str(e) for e in skipped[:LINES_SHOWN])
    more = len(skipped) - LINES_SHOWN
    return gettext("Skipped %(count)d bad lines: %(lines)s") % {"count": len(skipped), "lines": shown} + (
        gettext(" ... and %(more)d more.") % {"more": more} if more > 0 else ""
    )


def import_report_message(modeladmin, request, summary: str, report: ImportReport) -> None:
    """The outcome on the next admin page: the summary, and each skipped line if any."""
    modeladmin.message_user(request, summary, messages.SUCCESS if report.added else messages.WARNING)
    if report.skipped:
        modeladmin.message_user(request, skipped_message(report.skipped), messages.WARNING)


def formula_safe(value) -> str:
    """A cell a spreadsheet would run as a formula gets a leading quote (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def formula_unquote(text: str) -> str:
    """Undo `formula_safe` on a value read back from one of our exports."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text
