"""CSV import and export of members (django-import-export).

Import creates members through `member_enroll` (welcome gift, referral attribution, events) and
updates existing ones (same program and email) through `member_update`. Every refusal of those
services becomes a validation error of its row, so the dry run lists each bad row with its line
number and reason before anything is written. Balances, tier and status are exported, never imported.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from import_export import fields, resources, widgets

from config.errors import DomainError
from members import services
from members.models import Member, Program

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

    def get_export_queryset(self, request=None):
        return Member.objects.select_related("program", "tier", "referred_by")

    def dehydrate_referred_by(self, member: Member) -> str:
        return member.referred_by.referral_code if member.referred_by_id else ""

    def before_import_row(self, row, **kwargs) -> None:
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
