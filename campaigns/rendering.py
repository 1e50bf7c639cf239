"""What a member reads, rendered one way: the same code builds the emails and SMS that are sent, the
admin's preview and the test send to a staff address, so a preview is exactly what goes out.

Everything is rendered in the language active at the call (the caller wraps it in
`translation.override(member.language)`): the variant's texts in that language (modeltranslation falls
back to English where one is missing), the layout's own strings, the program's points name, and numbers
and dates in that locale's format (CLDR through Babel: "13 dicembre 2026", not Django's "13 Dicembre 2026").
"""

from dataclasses import dataclass
from datetime import date
from email.utils import make_msgid
from urllib.parse import urlsplit

from babel.dates import format_date
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Template
from django.template.base import TextNode, Variable, VariableNode
from django.template.loader import get_template
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from campaigns.models import MESSAGE_ENGINE, Variant
from members.models import Program

LAYOUT_HTML = "campaigns/email.html"
LAYOUT_TEXT = "campaigns/email.txt"


def number(value) -> str:
    """A count of points in the active language's format: 1,200 / 1.200 / 1 200."""
    return formats.number_format(value, force_grouping=True)


def long_date(value: date | None) -> str:
    """A date as that language writes it in a sentence (Django's Italian format capitalises the month)."""
    if value is None:
        return ""
    return format_date(value, format="long", locale=translation.to_locale(translation.get_language() or "en"))


def points_name(program: Program) -> str:
    """The program's name for its points in the active language. A language left at the English default
    ("points") reads its own word instead of an English one in the middle of its text."""
    name = program.points_name
    if not name or name == Program._meta.get_field("points_name").default:
        return pgettext("name of the points when the program gave none", "points")
    return name


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str


class Renderer:
    """Compiles each variant's template once per language and field (thousands of messages share them),
    and loads the layout templates once."""

    def __init__(self) -> None:
        self._compiled: dict[tuple, Template] = {}
        self._layouts: dict[str, object] = {}

    def _template(self, variant: Variant, name: str) -> Template:
        key = (variant.pk, translation.get_language(), name)
        if key not in self._compiled:
            self._compiled[key] = MESSAGE_ENGINE.from_string(getattr(variant, name) or "")
        return self._compiled[key]

    def field(self, variant: Variant, name: str, context: dict) -> str:
        """One of the variant's texts (subject, body, sms_body), personalised. Staff write them as plain
        text: nothing is escaped here; the HTML layout escapes the body."""
        return self._template(variant, name).render(Context(context, autoescape=False))

    def placed_variables(self, variant: Variant) -> set[str] | None:
        """The variables the email's subject and body place as they are, in the active language; None when
        they do more with them (a filter, an {% if %}): then each member's copy is rendered on its own."""
        names: set[str] = set()
        for field in ("subject", "body"):
            for node in self._template(variant, field).nodelist:
                if isinstance(node, TextNode):
                    continue
                expression = getattr(node, "filter_expression", None)
                if not isinstance(node, VariableNode) or expression.filters or not isinstance(expression.var, Variable):
                    return None
                if expression.var.lookups is None or len(expression.var.lookups) != 1:
                    return None
                names.add(expression.var.lookups[0])
        return names

    def layout(self, name: str, context: dict) -> str:
        if name not in self._layouts:
            self._layouts[name] = get_template(name)
        return self._layouts[name].render(context)

    def email(self, *, variant: Variant, context: dict, unsubscribe_url: str) -> RenderedEmail:
        language = translation.get_language() or "en"
        subject = " ".join(self.field(variant, "subject", context).split())
        page = {
            **context,
            "subject": subject,
            "body": self.field(variant, "body", context),
            "unsubscribe_url": unsubscribe_url,
            "lang": language,
        }
        return RenderedEmail(
            subject=subject,
            text=self.layout(LAYOUT_TEXT, page),
            html=self.layout(LAYOUT_HTML, page),
            language=language,
        )

    def sms(self, *, variant: Variant, context: dict, stop_url: str) -> str:
        """Marketing SMS carry their own opt-out link (SMS consent is withdrawn apart from email)."""
        body = self.field(variant, "sms_body", context).strip()
        return f"{body}\n{_('Stop: %(url)s') % {'url': stop_url}}"


def email_message(*, rendered: RenderedEmail, to: str, headers: dict, connection=None) -> EmailMultiAlternatives:
    """The email as it leaves: text and HTML parts, a Message-ID of ours, the given headers."""
    message_id = make_msgid(domain=urlsplit(settings.SITE_URL).hostname or "fidelis")
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[to],
        headers={**headers, "Message-ID": message_id},
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
