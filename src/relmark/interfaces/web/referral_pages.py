"""The dashboard's ambassadors: referrers ranked by the value of the customers they brought,
with their referrals' verdicts, and the latest referrals with the reason for each rejection.

Reads the same store queries as the API and `relmark referrals` (store/referral_report.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from relmark.accounts import Principal
from relmark.interfaces.web.i18n import gettext_for
from relmark.interfaces.web.pages import _language, render, signed_in
from relmark.store import referral_report

router = APIRouter(include_in_schema=False)
SHOWN = 50

BASIS_LABELS = {
    "clv": "Lifetime value",
    "revenue": "Revenue so far",
    "clv+revenue": "Lifetime value and revenue",
}
STATUS_LABELS = {"pending": "Pending", "rewarded": "Rewarded", "rejected": "Rejected"}
VIA_LABELS = {"coupon": "Coupon", "link": "Link", "import": "Import"}
REASON_LABELS = {
    "self_referral": "Referred themselves",
    "same_email": "Same e-mail as the referrer",
    "same_phone": "Same phone as the referrer",
    "same_address": "Same address as the referrer",
    "referee_not_new": "Not a new customer",
    "order_refunded": "Order refunded",
    "order_returned": "Order returned",
    "order_cancelled": "Order cancelled",
    "referee_unreachable": "Friend has no e-mail or phone",
}


@router.get("/ambassadors", response_class=HTMLResponse)
async def ambassadors_page(request: Request) -> Response:
    who = await signed_in(request)
    return await run_in_threadpool(_page, request, who)


def _page(request: Request, who: Principal) -> Response:
    _ = gettext_for(_language(request))
    currency = request.app.state.settings.currency
    with request.app.state.engine.connect() as connection:
        report = referral_report.ambassadors(connection, currency, limit=SHOWN)
        total, latest = referral_report.list_referrals(connection, limit=SHOWN)

    def label(table: dict[str, str]):  # noqa: ANN202 - a small Jinja helper
        return lambda code: _(table[code]) if code in table else (code or "")

    return render(
        request,
        who,
        "ambassadors.html",
        report=report,
        latest=latest,
        total=total,
        basis_label=label(BASIS_LABELS),
        status_label=label(STATUS_LABELS),
        via_label=label(VIA_LABELS),
        reason_label=label(REASON_LABELS),
    )
