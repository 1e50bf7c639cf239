"""Member page: the personal offers a member holds (codes from campaigns and journeys)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from campaigns import selectors
from members.views import member_required


@member_required
def offers(request: HttpRequest) -> HttpResponse:
    member = request.member
    return render(
        request,
        "campaigns/offers.html",
        {
            "member": member,
            "open": selectors.offer_grant_open(member=member),
            "used": selectors.offer_grants_used(member=member),
        },
    )
