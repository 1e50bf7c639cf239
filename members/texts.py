"""Texts members read that are stored, rendered in the reader's language.

- Ledger reasons are written as an English message id (`gettext_noop`) plus parameters
  (`LedgerEntry.reason_params`), and translated when read: an entry written while the member read
  English shows in Russian once they switch. A parameter holding stored content (a reward's title,
  a rule's name) is a `{"en": ..., "ro": ...}` dict taken from the object's translated columns at
  write time, so reading an old entry needs no query.
- The program's points name has plural forms per language (`Program.points_forms`); `points_label`
  picks the one the active language's plural rule asks for.
"""

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation.trans_real import translation as catalog

DEFAULT_POINTS_NAME = "points"  # Program.points_name's default


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def stored_all(obj: models.Model, field: str) -> dict[str, str]:
    """Every language's text of a translated field ({"en": "Free coffee", "ro": "Cafea gratuită", ...}),
    the empty ones left out (they fall back to English when read)."""
    texts = {code: getattr(obj, f"{field}_{code}", None) for code in languages()}
    found = {code: str(text) for code, text in texts.items() if text}
    return found or {settings.LANGUAGE_CODE: str(getattr(obj, field, "") or "")}


def stored_pick(value) -> str:
    """One text of `stored_all`'s dict in the active language (English, then any, when missing)."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return value.get(language) or value.get(settings.LANGUAGE_CODE) or next(iter(value.values()), "")


def stored_reason(obj: models.Model, field: str) -> dict:
    """Ledger-entry fields whose reason is an object's stored text (a rule's name), in every language:
    `reason` keeps the English text for staff and raw readers, `reason_params["text"]` all of them."""
    texts = stored_all(obj, field)
    return {
        "reason": texts.get(settings.LANGUAGE_CODE, next(iter(texts.values())))[:255],
        "reason_params": {"text": texts},
    }


def ledger_reason(message: str, **params) -> dict:
    """Ledger-entry fields for a reason in our words: `message` is a gettext_noop message id, `params`
    its parameters (stored content as `stored_all` dicts). `reason` keeps the English text for staff
    and raw readers; the message id and parameters are what the reader's language is rendered from."""
    english = message % {key: stored_pick_english(value) for key, value in params.items()} if params else message
    return {"reason": english[:255], "reason_params": {"msg": message, **params} if params else {}}


def stored_pick_english(value) -> str:
    if isinstance(value, dict):
        return value.get(settings.LANGUAGE_CODE) or next(iter(value.values()), "")
    return str(value)


def reason_render(reason: str, params: dict | None) -> str:
    """A ledger reason in the active language. `params` None: written as is (a partner's or staff
    member's words). {"text": {...}}: stored content in every language. Otherwise `params["msg"]`
    (or `reason` itself when there are no parameters) is a message id, and the rest its parameters."""
    if params is None:
        return reason
    if "text" in params:
        return stored_pick(params["text"]) or reason
    message = params.get("msg", reason)
    values = {key: stored_pick(value) for key, value in params.items() if key != "msg"}
    text = gettext(message)
    if not values:
        return text
    try:
        return text % values
    except (KeyError, TypeError, ValueError):  # a translation with a broken placeholder: English still reads
        return reason


def plural_index(count: int) -> int:
    """The active language's plural form for `count` (its catalog's Plural-Forms rule)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    try:
        return int(catalog(language).plural(abs(count)))
    except (AttributeError, TypeError, ValueError):
        return 0 if abs(count) == 1 else 1


def points_label(program, count: int | None = None) -> str:
    """The program's points name for `count` in the active language ("1 star", "21 звезда", "5 звёзд");
    without a count, the plural name."""
    name = program.points_name
    if not name or name == DEFAULT_POINTS_NAME:  # never renamed: our own words, in every language
        return gettext("points") if count is None else ngettext("point", "points", count)
    if count is None or not program.points_forms:
        return name
    forms = [form.strip() for form in program.points_forms.split("|") if form.strip()]
    if not forms:
        return name
    return forms[min(plural_index(count), len(forms) - 1)]
