"""Member pages, buying points: how many, the price, then a confirmation that places an order and
sends the member to the program's payment page. The points are credited when the payment provider
confirms the order (members.services.points_sales.points_order_settle); a program without a payment
page sells points through its partners only, and the page says so."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from members import services
from members.forms import BuyPointsForm
from members.models import PointsPrice
from members.selectors import member_points_sales
from members.services.points_sales import points_order_payment_url
from members.views import member_required


@require_http_methods(["GET", "POST"])
@member_required
def buy_points(request: HttpRequest) -> HttpResponse:
    member = request.member
    price = PointsPrice.objects.filter(program=member.program, is_active=True).first()
    on_sale = price is not None and bool(price.payment_url)
    form = BuyPointsForm(request.POST or None)
    quote = None
    if on_sale and request.method == "POST" and form.is_valid():
        points = form.cleaned_data["points"]
        try:
            if "confirm" in request.POST:
                order = services.points_order_place(member=member, points=points)
                return HttpResponseRedirect(points_order_payment_url(order, price))
            _, total = services.points_price_quote(program=member.program, points=points)
            quote = {"points": points, "price": total}
        except DomainError as refused:
            form.add_error("points", refused.message)
    sales = list(member_points_sales(member=member)[:20])
    for sale in sales:
        if on_sale and sale.status == sale.Status.PENDING:
            sale.pay_url = points_order_payment_url(sale, price)
    context = {
        "member": member,
        "price": price,
        "on_sale": on_sale,
        "form": form,
        "quote": quote,
        "sales": sales,
    }
    return render(request, "members/buy_points.html", context)


@require_http_methods(["POST"])
@member_required
def buy_points_cancel(request: HttpRequest, order: str) -> HttpResponse:
    sale = member_points_sales(member=request.member).filter(order=order, status="pending").first()
    if sale is not None:
        services.points_sale_refund(sale=sale)
        messages.success(request, _("Your order is cancelled."))
    return redirect("members:buy_points")
