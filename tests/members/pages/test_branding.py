"""Branding per program: name, colours (a generated stylesheet, no inline <style>) and logo."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.branding import brand_colors, contrast
from members.models import Program
from tests.backoffice.test_roles import program_post

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_pages_link_the_programs_stylesheet_and_show_its_name(member_client, program):
    Program.objects.filter(pk=program.pk).update(brand_name="Corner Club", brand_color="#0f766e")
    page = member_client.get(reverse("members:home")).text
    css_url = reverse("members:brand_css", args=[program.slug])
    assert f'href="{css_url}?v=' in page and "Corner Club" in page
    assert "<style" not in page
    css = member_client.get(css_url)
    assert css["Content-Type"].startswith("text/css")
    assert "--color-primary: #0f766e;" in css.text and "--color-primary-soft:" in css.text


def test_a_light_brand_colour_gets_dark_text_and_every_pair_stays_readable():
    light = Program(brand_color="#fde047", brand_accent="#000000")
    colors = brand_colors(light)
    assert colors["--color-on-primary"] == "#1c2033"
    assert contrast(colors["--color-primary"], colors["--color-on-primary"]) >= 4.5
    broken = Program(brand_color="red; } body { display:none", brand_accent="#f59e0b")
    assert brand_colors(broken)["--color-primary"] == "#4338ca"  # never copied into the stylesheet


def test_admin_accepts_a_png_logo_and_refuses_an_svg(client, program, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(admin)
    url = reverse("admin:members_program_change", args=[program.pk])
    data = program_post(program)
    svg = client.post(url, data | {"logo": SimpleUploadedFile("x.svg", b"<svg onload='alert(1)'/>")})
    assert svg.status_code == 200 and "logo" in svg.context["adminform"].form.errors
    png = client.post(url, data | {"logo": SimpleUploadedFile("logo.png", PNG)})
    assert png.status_code == 302, png.context["adminform"].form.errors if png.context else png
    program.refresh_from_db()
    logo = client.get(reverse("members:brand_logo", args=[program.slug]))
    assert logo["Content-Type"] == "image/png" and logo.content == PNG
