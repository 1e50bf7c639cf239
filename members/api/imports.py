"""Partner API v1, import jobs: a CSV of purchases or members too large for a batch, processed in
the background (members.tasks.import_job_run) CHUNK lines per transaction, with its status and a
per-line error report. Each line is read by the batch's line readers (members/api/batch.py), so it
is accepted or refused exactly as in a batch, and idempotent the same way: a chunk a killed worker
left half done is simply done again.

Kept in the API package, not in members.services, because a line is read by the API's input
serializers; the Celery task calls import_job_run here.
"""

import csv
import io

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.api import error_body
from core.enqueue import enqueue_on_commit
from core.errors import DomainError, NotFound
from members.api.batch import MemberLineSerializer, member_line, purchase_line
from members.api.serializers import PurchaseSerializer
from members.models import ImportJob, Partner, Program
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, READ_ERRORS, WRITE_ERRORS, errors
from members.partners.serializers import StrictSerializer
from members.services import opening
from members.services.audit import audit_record

CHUNK = 200
MAX_ERRORS = 1000  # a file with more refused lines keeps the first ones: the rest are alike
# Columns a file may have: a purchase's flat fields (no line items) and a member's fields.
COLUMNS = {
    ImportJob.Kind.TRANSACTIONS: [name for name in PurchaseSerializer().fields if name != "items"],
    ImportJob.Kind.MEMBERS: list(MemberLineSerializer().fields),
    ImportJob.Kind.OPENING_BALANCES: list(opening.COLUMNS),
}
READERS = {ImportJob.Kind.TRANSACTIONS: purchase_line, ImportJob.Kind.MEMBERS: member_line}


def _rows(content: str) -> tuple[list[str], list[dict]]:
    """Header and lines; text that is not CSV (a stray carriage return inside a field, ...) is a 400."""
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        return list(reader.fieldnames or []), list(reader)
    except csv.Error as exc:
        message = f"The file is not valid CSV: {exc}."
        raise DomainError("invalid_file", message, fields={"csv": [message]}) from None


@transaction.atomic
def import_job_create(
    *,
    partner: Partner | None,
    kind: str,
    content: str,
    program: Program | None = None,
    dry_run: bool = False,
    created_by=None,
) -> ImportJob:
    """Check a CSV's header and queue its import; the lines themselves are checked one by one later.
    A partner imports into its program; staff (the admin, opening balances) name the program."""
    header, rows = _rows(content)
    allowed = COLUMNS[kind]
    unknown = [name for name in header if name not in allowed]
    missing = (
        [name for name in opening.REQUIRED if name not in header] if kind == ImportJob.Kind.OPENING_BALANCES else []
    )
    if not header or unknown or missing or len(set(header)) != len(header):
        message = f"The first line names the columns, each once, among: {', '.join(allowed)}."
        if unknown:
            message += f" Unknown: {', '.join(unknown)}."
        if missing:
            message += f" Missing: {', '.join(missing)}."
        raise DomainError("invalid_file", message, fields={"csv": [message]})
    if not rows:
        raise DomainError("invalid_file", "The file has no lines after its header.", fields={"csv": ["No lines."]})
    job = ImportJob.objects.create(
        program_id=partner.program_id if partner else program.pk,
        partner=partner,
        kind=kind,
        content=content,
        total=len(rows),
        dry_run=dry_run,
        created_by=created_by,
        created_at=timezone.now(),
    )
    if created_by is not None:
        audit_record(actor=created_by, action="import_create", target=job, changes={"kind": kind, "dry_run": dry_run})
    enqueue_on_commit("members.tasks.import_job_run", job.pk)
    return job


def _line_data(row: dict) -> QueryDict:
    # As text, like a query string: empty cells are absent fields; booleans read "true"/"false".
    data = QueryDict(mutable=True)
    for name, value in row.items():
        if value not in ("", None):
            data[name] = value
    return data


def import_job_run(*, job_id: int) -> bool:
    """Import the next CHUNK lines of a job in one transaction (each line in its own savepoint);
    True while lines are left (the task then queues itself again)."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("partner__program", "program", "created_by")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status == ImportJob.Status.DONE:
            return False
        now = timezone.now()
        job.status, job.started_at = ImportJob.Status.RUNNING, job.started_at or now
        _, rows = _rows(job.content)
        if job.kind == ImportJob.Kind.OPENING_BALANCES:
            return _opening_chunk(job, rows)
        read = READERS[job.kind]
        for number, row in enumerate(rows[job.processed : job.processed + CHUNK], start=job.processed + 1):
            if None in row:
                message = "This line has more cells than the header has columns."
                result = {"status": 400, "result": None, **error_body("invalid_line", message)}
            else:
                with transaction.atomic():
                    result = read(partner=job.partner, data=_line_data(row))
                    if job.dry_run:  # checked and answered as for real, then undone
                        transaction.set_rollback(True)
            if result["status"] < 300:
                job.succeeded += 1
            else:
                job.failed += 1
                if len(job.errors) < MAX_ERRORS:
                    job.errors.append({"line": number, "status": result["status"], **result["error"]})
            job.processed = number
        more = job.processed < job.total
        if not more:
            job.status, job.finished_at, job.content = ImportJob.Status.DONE, timezone.now(), ""
        job.save()
        if more:
            enqueue_on_commit("members.tasks.import_job_run", job.pk)
    return more


def _opening_chunk(job: ImportJob, rows: list[dict]) -> bool:
    """The next CHUNK lines of an opening-balances job (members.services.opening), every line in
    the report. A dry run keeps its file, so staff can confirm it as the real import."""
    stop = min(job.processed + CHUNK, job.total)
    for entry in opening.opening_chunk(job=job, rows=rows, start=job.processed, stop=stop):
        if entry["status"] < 300:
            job.succeeded += 1
        else:
            job.failed += 1
            if len(job.errors) < MAX_ERRORS:
                error = {k: entry[k] for k in ("line", "status", "code", "message", "fields")}
                job.errors.append(error)
        if len(job.report) < opening.MAX_REPORT:
            job.report.append(entry)
    job.processed = stop
    more = job.processed < job.total
    if not more:
        job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
        if not job.dry_run:
            job.content = ""
            audit_record(
                actor=job.created_by,
                action="opening_balances_import",
                target=job,
                changes={"succeeded": job.succeeded, "failed": job.failed},
            )
    job.save()
    if more:
        enqueue_on_commit("members.tasks.import_job_run", job.pk)
    return more


def import_job_for_partner(*, partner: Partner, job_id: int) -> ImportJob | None:
    return ImportJob.objects.filter(pk=job_id, partner=partner).first()


class ImportCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=ImportJob.Kind.choices,
        help_text="transactions, members, or opening_balances (a program moving from another platform).",
    )
    dry_run = serializers.BooleanField(
        default=False,
        help_text="Check every line as for real (`succeeded`, `errors`, and for opening_balances the `report`), "
        "writing nothing.",
    )
    csv = serializers.CharField(
        trim_whitespace=False,
        help_text="The file, UTF-8 text with a header line. transactions: member or card, external_id, amount, "
        "currency, occurred_at, paid_with_points, discount_amount (no line items). members: the fields of "
        "POST /members with external_id required. opening_balances: email and points required; external_id, "
        "first_name, last_name (a member not yet enrolled), expires_at and earned_at (dates), reference (the "
        "old platform's id of the entry). The whole body is at most DATA_UPLOAD_MAX_MEMORY_SIZE.",
    )


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line number in the file, the header not counted (first line: 1).")
    status = serializers.IntegerField(help_text="The status a single request would have got.")
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField())


class ImportLineSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    status = serializers.IntegerField(help_text="201 imported, 200 already imported, else refused.")
    member = serializers.CharField(help_text="Membership number (empty when refused).")
    points = serializers.IntegerField()
    message = serializers.CharField()


class ImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    total = serializers.IntegerField(help_text="Lines in the file.")
    processed = serializers.IntegerField()
    succeeded = serializers.IntegerField(help_text="Lines done now or before (their id was already there).")
    failed = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True, help_text=f"Refused lines (the first {MAX_ERRORS}).")
    dry_run = serializers.BooleanField()
    report = ImportLineSerializer(many=True, help_text="opening_balances: what each line did (or would do).")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


JOB_EXAMPLE = {
    "id": 12,
    "kind": "transactions",
    "status": "done",
    "total": 3,
    "processed": 3,
    "succeeded": 2,
    "failed": 1,
    "errors": [
        {
            "line": 2,
            "status": 404,
            "code": "not_found",
            "message": "Member not found.",
            "fields": {},
        }
    ],
    "dry_run": False,
    "report": [],
    "created_at": "2026-11-20T17:42:03Z",
    "finished_at": "2026-11-20T17:42:09Z",
}
CSV_EXAMPLE = "member,external_id,amount,currency\n402519876543,ORD-1,84.50,EUR\n402519876550,ORD-2,12.00,EUR\n"


class ImportsView(PartnerAPIView):
    @extend_schema(
        tags=["imports"],
        operation_id="imports_create",
        summary="Import a CSV of purchases or members in the background",
        description="Answers 202 at once with the job; follow it with `GET /imports/{id}`. Each line is "
        "accepted or refused as the same line in a batch would be, and is idempotent by its id (a purchase's "
        "`external_id`, a member's `external_id`), so importing a file twice records nothing twice. A header "
        "naming an unknown column is a 400 `invalid_file` before anything is queued.",
        parameters=[IDEMPOTENCY_KEY],
        request=ImportCreateSerializer,
        examples=[OpenApiExample("purchases", request_only=True, value={"kind": "transactions", "csv": CSV_EXAMPLE})],
        responses={
            202: OpenApiResponse(
                ImportJobSerializer,
                examples=[
                    OpenApiExample(
                        "queued",
                        value={
                            **JOB_EXAMPLE,
                            "status": "queued",
                            "processed": 0,
                            "succeeded": 0,
                            "failed": 0,
                            "errors": [],
                            "finished_at": None,
                        },
                    )
                ],
            ),
            **errors(
                *WRITE_ERRORS,
                conflicts=(IN_FLIGHT,),
                refusals=(("invalid_file", "The first line names the columns, each once, among: ..."),),
            ),
        },
    )
    @idempotent
    def post(self, request):
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        job = import_job_create(partner=self.partner, kind=d["kind"], content=d["csv"], dry_run=d["dry_run"])
        job.refresh_from_db()  # without a broker the job ran already, in this request
        return Response(ImportJobSerializer(job).data, status=202)


class ImportView(PartnerAPIView):
    @extend_schema(
        tags=["imports"],
        operation_id="imports_get",
        summary="An import job: its progress and the lines it refused",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Import job id.")],
        responses={
            200: OpenApiResponse(ImportJobSerializer, examples=[OpenApiExample("done", value=JOB_EXAMPLE)]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int):
        job = import_job_for_partner(partner=self.partner, job_id=pk)
        if job is None:
            raise NotFound("Import job not found.")
        return Response(ImportJobSerializer(job).data)
