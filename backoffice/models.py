from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Program


class DashboardSummary(models.Model):
    """One preset period's dashboard page for a program, computed by a periodic job
    (backoffice.dashboard.summaries) so the admin index reads it instead of aggregating the
    period's purchases and ledger entries on every view."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=12)
    computed_at = models.DateTimeField()
    seconds = models.FloatField(help_text=_("How long computing the page took."))
    # The page as built (backoffice.dashboard.build.Dashboard), pickled: written and read only by
    # Fidelis itself, like its cache entries. Labels stay lazy, so it reads in each viewer's language.
    page = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "period"], name="dashboard_summary_once")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.period} @ {self.computed_at:%Y-%m-%d %H:%M}"
