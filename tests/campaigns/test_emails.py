"""Campaign emails in the member's language: the variant's text, the layout's strings, the `lang`
attribute, the program's points name and the locale's number and date formats."""

# ruff: noqa: RUF001 (Russian text is the point of these tests)

import re
from datetime import datetime

import pytest
import time_machine
from django.core import mail

from campaigns import services
from campaigns.models import Delivery
from members.models import Member
from tests.campaigns.conftest import CampaignFactory, OfferFactory, VariantFactory

BODIES = {
    "en": "Hello {{ name }}, you have {{ balance }} {{ points_name }}. Code {{ code }} until {{ expiry }}.",
    "it": "Ciao {{ name }}, hai {{ balance }} {{ points_name }}. Codice {{ code }} fino al {{ expiry }}.",
    "ru": "Привет, {{ name }}! У вас {{ balance }} {{ points_name }}. Код {{ code }} до {{ expiry }}.",
}


@pytest.fixture
def starry(program):
    program.points_name_en, program.points_name_it, program.points_name_ru = "stars", "stelle", "звёзды"
    program.save()
    return program


def _send_to(program, consenting, language: str):
    member = consenting(language=language, first_name="Giulia")
    Member.objects.filter(pk=member.pk).update(points_available=1234)
    offer = OfferFactory(program=program, valid_days=7)
    campaign = CampaignFactory(program=program, offer=offer, variant=False)
    VariantFactory(
        campaign=campaign,
        subject_en="Your offer",
        subject_it="La tua offerta",
        subject_ru="Ваше предложение",
        body_en=BODIES["en"],
        body_it=BODIES["it"],
        body_ru=BODIES["ru"],
    )
    with time_machine.travel(datetime.fromisoformat("2026-12-06T10:00:00+00:00"), tick=False):
        services.campaign_chunk(campaign=campaign, occurrence="", low=member.pk, high=member.pk + 1)
    assert Delivery.objects.get(campaign=campaign).status == Delivery.Status.SENT
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    return message, html


def test_an_italian_member_gets_italian_html_with_lang_it_the_points_name_and_italian_formats(starry, consenting):
    message, html = _send_to(starry, consenting, "it")

    assert message.subject == "La tua offerta"
    assert '<html lang="it">' in html
    assert "Ciao Giulia, hai 1.234 stelle." in html
    assert "fino al 13 dicembre 2026." in html  # CLDR: the month in lower case, not "13 Dicembre"
    assert "Il tuo codice" in html and "Valido fino al 13 dicembre 2026" in html
    assert "Il tuo saldo: 1.234 stelle" in html
    assert "Disiscriviti da queste email" in html
    assert "Your" not in html and "points" not in html  # no English left in the layout
    assert "Ciao Giulia, hai 1.234 stelle." in message.body and "Il tuo saldo: 1.234 stelle" in message.body


def test_a_russian_member_gets_russian_html_with_lang_ru_the_points_name_and_russian_formats(starry, consenting):
    message, html = _send_to(starry, consenting, "ru")

    assert message.subject == "Ваше предложение"
    assert '<html lang="ru">' in html
    # Russian groups thousands with a no-break space and writes the month in the genitive.
    assert "У вас 1\xa0234 звёзды." in html
    assert re.search(r"до 13 декабря 2026\s?г\.", html)
    assert "Ваш код" in html and "Ваш баланс: 1\xa0234 звёзды" in html
    assert "Отписаться от этих писем" in html
    assert "Your" not in html and "points" not in html


def test_a_language_without_its_own_texts_falls_back_to_english_text_but_keeps_its_own_words_and_formats(
    starry, consenting
):
    """No Romanian variant text and no Romanian points name: the body and the name are the English ones
    (the program's brand), while the layout and the formats stay Romanian."""
    _message, html = _send_to(starry, consenting, "ro")
    assert '<html lang="ro">' in html
    assert "Hello Giulia, you have 1.234 stars." in html
    assert "13 decembrie 2026" in html
    assert "Codul tău" in html


def test_a_program_that_kept_the_default_name_reads_each_languages_own_word(program, consenting):
    for language, word in (("it", "punti"), ("ru", "баллы"), ("en", "points")):
        mail.outbox.clear()
        _message, html = _send_to(program, consenting, language)
        assert f" {word}." in html.split("<p>", 1)[1]
