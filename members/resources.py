"""CSV import and export of members (django-import-export).

Import creates members through `member_enroll` (welcome gift, referral attribution, events) and
updates existing ones (same program and email) through `member_update`. Every refusal of those
services becomes a validation error of its row, so the dry run lists each bad row with its line
number (of the file: the header is line 1, as for every import, see core/csvfiles.py) and reason
before anything is written. `members_import` applies the operator's mode: all-or-nothing rolls the
whole file back on any bad line, valid-only keeps the good rows (each in its own savepoint) and
reports the skipped lines. Balances, tier and status are exported, never imported; exported text
cells are disarmed against spreadsheet formulas.
"""

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources, widgets
from import_export.results import Result, RowResult

from core.csvfiles import (
    ImportMode,
    ImportRejected,
    ImportReport,
    RowError,
    formula_safe,
    formula_unquote,
    rows_settle,
)
from core.errors import DomainError
from members import services
from members.models import ExchangeRate, Member, Program

# Exported only: they come from the ledger and the services, never from a file.
EXPORTED_ONLY = (
    "number",
    "referral_code",
    "status",
    "loyalty_type",
    "points_available",
    "points_pending",
    "points_lifetime",
    "points_debt",
    "enrolled_at",
)


class ProgramWidget(widgets.ForeignKeyWidget):
    """The program by slug; an unknown or missing one is a validation error of the row (not a crash)."""

    def __init__(self):
        super().__init__(Program, field="slug")

    def clean(self, value, row=None, **kwargs):
        try:
            program = super().clean(value, row, **kwargs)
        except Program.DoesNotExist:
            program = None
        if program is None:
            raise ValidationError({"program": [f"No program with the slug '{value or ''}'."]})
        return program


class FileLineResult(Result):
    """Rows numbered by their line in the file (import-export counts data rows from 1; the header is
    line 1), so the preview, the messages and the other imports all name the same line."""

    def append_invalid_row(self, number, row, validation_error):
        super().append_invalid_row(number + 1, row, validation_error)

    def append_error_row(self, number, row, errors):
        super().append_error_row(number + 1, row, errors)

    def row_errors(self):
        return [(i + 2, row.errors) for i, row in enumerate(self.rows) if row.errors]


class MemberResource(resources.ModelResource):
    program = fields.Field(attribute="program", column_name="program", widget=ProgramWidget())
    consent_email = fields.Field(attribute="consent_email", column_name="consent_email", widget=widgets.BooleanWidget())
    consent_sms = fields.Field(attribute="consent_sms", column_name="consent_sms", widget=widgets.BooleanWidget())
    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=widgets.DateWidget("%Y-%m-%d"))
    referred_by = fields.Field(column_name="referred_by", readonly=False)
    tier = fields.Field(attribute="tier__name", column_name="tier", readonly=True)

    class Meta:
        model = Member
        import_id_fields = ("program", "email")
        fields = (
            "number",
            "program",
            *services.PROFILE_FIELDS,
            "consent_email",
            "consent_sms",
            "referral_code",
            "referred_by",
            "tier",
            "status",
            "loyalty_type",
            "points_available",
            "points_pending",
            "points_lifetime",
            "points_debt",
            "enrolled_at",
        )
        export_order = fields
        use_transactions = True
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in EXPORTED_ONLY:
            self.fields[name].readonly = True

    def get_result_class(self):
        return FileLineResult

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return formula_safe(value) if isinstance(value, str) else value

    def get_export_queryset(self, request=None):
        return Member.objects.select_related("program", "tier", "referred_by")

    def dehydrate_referred_by(self, member: Member) -> str:
        return member.referred_by.referral_code if member.referred_by_id else ""

    def before_import_row(self, row, **kwargs) -> None:
        for key, value in row.items():
            if isinstance(value, str):
                row[key] = formula_unquote(value)  # a file we exported comes back as it was
        if row.get("email"):
            row["email"] = services.normalize_email(str(row["email"]))

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name == "referred_by":
            instance._referral_code = (row.get("referred_by") or "").strip()
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def do_instance_save(self, instance: Member, is_create: bool) -> None:
        profile = {
            name: getattr(instance, name) or ("" if name != "birth_date" else None) for name in services.PROFILE_FIELDS
        }
        profile["language"] = profile["language"] or "en"
        try:
            if is_create:
                member = services.member_enroll(
                    program=instance.program,
                    consent_email=bool(instance.consent_email),
                    consent_sms=bool(instance.consent_sms),
                    referral_code=getattr(instance, "_referral_code", ""),
                    **profile,
                )
                instance.pk, instance.number, instance.referral_code = member.pk, member.number, member.referral_code
            else:
                # An empty consent cell keeps the member's choice; only an explicit value changes it.
                consents = {
                    f"consent_{channel}": getattr(instance, f"consent_{channel}")
                    for channel in ("email", "sms")
                    if getattr(instance, f"consent_{channel}") is not None
                }
                services.member_update(member=instance, **consents, **profile)
        except DomainError as refused:
            raise ValidationError(self._row_errors(refused)) from refused

    def _row_errors(self, refused: DomainError) -> dict[str, list[str]]:
        columns = {f.column_name for f in self.get_import_fields()}
        errors: dict[str, list[str]] = {}
        for name, messages in refused.fields.items():
            key = "referred_by" if name == "referral_code" else name
            errors.setdefault(key if key in columns else NON_FIELD_ERRORS, []).extend(
                f"{refused.message} {m}" if m not in refused.message else m for m in messages
            )
        return errors or {NON_FIELD_ERRORS: [refused.message]}


def import_result_errors(result: Result) -> list[RowError]:
    """Each bad line of an import-export result, in the shared form."""
    errors = [RowError(1, str(e.error)) for e in result.base_errors]
    for row in result.invalid_rows:
        for name, messages in row.error_dict.items():
            where = "" if name == NON_FIELD_ERRORS else f"{name}: "
            errors.extend(RowError(row.number, f"{where}{m}") for m in messages)
    for line, row_errors in result.row_errors():
        errors.extend(RowError(line, str(e.error)) for e in row_errors)
    return errors


def import_result_report(result: Result, mode: str) -> ImportReport:
    """The outcome of an import that has run. An unexpected error has always rolled it all back."""
    errors = import_result_errors(result)
    if result.has_errors():
        raise ImportRejected(errors)
    skipped = rows_settle(errors, mode)
    return ImportReport(
        added=result.totals[RowResult.IMPORT_TYPE_NEW],
        updated=result.totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=result.totals[RowResult.IMPORT_TYPE_SKIP],
        skipped=skipped,
    )


def members_import(
    *, data: str, mode: str = ImportMode.ALL_OR_NOTHING, dry_run: bool = False, user=None
) -> ImportReport:
    """Enroll or update members from CSV text (what the admin import runs, without the preview)."""
    dataset = tablib.Dataset().load(data, format="csv")
    result = MemberResource().import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=ImportMode(mode) == ImportMode.ALL_OR_NOTHING,
        user=user,
    )
    return import_result_report(result, mode)


class ExchangeRateResource(resources.ModelResource):
    """Exchange rates by CSV (program slug, currency, valid_from, rate): a rate of the same program,
    currency and date is replaced. Each row goes through members.services.exchange_rate_set."""

    program = fields.Field(attribute="program", column_name="program", widget=ProgramWidget())
    valid_from = fields.Field(attribute="valid_from", column_name="valid_from", widget=widgets.DateWidget("%Y-%m-%d"))

    class Meta:
        model = ExchangeRate
        import_id_fields = ("program", "currency", "valid_from")
        fields = ("program", "currency", "valid_from", "rate")
        export_order = fields
        use_transactions = True
        skip_unchanged = True

    def get_result_class(self):
        return FileLineResult

    def before_import_row(self, row, **kwargs) -> None:
        row["currency"] = str(row.get("currency") or "").strip().upper()

    def do_instance_save(self, instance: ExchangeRate, is_create: bool) -> None:
        try:
            saved = services.exchange_rate_set(
                program=instance.program, currency=instance.currency, valid_from=instance.valid_from, rate=instance.rate
            )
        except DomainError as refused:
            raise ValidationError({NON_FIELD_ERRORS: [refused.message]}) from refused
        instance.pk = saved.pk
