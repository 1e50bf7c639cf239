"""What base.html needs on every member page: the program whose branding it shows."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from members import auth, branding


def brand(request: HttpRequest) -> dict:
    """`brand_program`: the signed-in member's program (already loaded, no query), else the default
    program (one query, only if the template reads it; admin pages do not)."""

    def program():
        member = getattr(request, "member", None)
        return member.program if member is not None else auth.signup_program(slug=None)

    lazy = SimpleLazyObject(program)
    return {"brand_program": lazy, "brand_version": SimpleLazyObject(lambda: branding.brand_version(lazy))}
