"""The customer's side: `vpcpay.html`, the NCB card and OTP forms, cancel, and VNPay's error page.

Paths follow the sandbox: a valid `vpcpay.html` request is answered with a redirect to
`/paymentv2/Transaction/PaymentMethod.html?token=...` (the Location a merchant-config checker in public
code expects from the real sandbox); the forms post back to paths under `/paymentv2/` carrying only that
opaque token. The NCB sub-paths themselves are this simulator's choice.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import structlog
from litestar import Request, get, post
from litestar.response import Redirect, Template

from .error_pages import (
    ERROR_PAGE_PATH,
    ERROR_PAYMENT_TIMEOUT,
    ERROR_TRANSACTION_EXISTS,
    ERROR_UNKNOWN,
    error_page_message,
    error_page_url,
)
from .pay_request import Rejected, check_pay_request
from .settlement import CardUsed, finish_and_notify, return_url
from .simulator_state import SimulatorState, simulator_of
from .store import TEST_CARD_BANK, PaymentSession

log = structlog.get_logger("simulators.vnpay.payment_page")

PAY_PATH = "/paymentv2/vpcpay.html"
METHOD_PATH = "/paymentv2/Transaction/PaymentMethod.html"
CARD_PATH = "/paymentv2/Ncb/Transaction/Index.html"
OTP_PATH = "/paymentv2/Ncb/Transaction/Confirm.html"
CANCEL_PATH = "/paymentv2/Transaction/Cancel.html"

# The sandbox's published NCB test cards (sandbox.vnpayment.vn/apis/vnpay-demo, as copied into many
# public READMEs). All use holder NGUYEN VAN A and issue date 07/15; only the first one can pay.
TEST_CARD_NUMBER = "9704198526191432198"
TEST_CARD_HOLDER = "NGUYEN VAN A"
TEST_CARD_ISSUE_DATE = "07/15"
TEST_OTP = "123456"
# Which result the other demo cards end in is UNVERIFIED; these are the codes that match their labels.
DECLINING_TEST_CARDS: dict[str, str] = {
    "9704195798459170488": "51",  # "Thẻ không đủ số dư"
    "9704192181368742": "09",  # "Thẻ chưa kích hoạt"
    "9704193370791314": "12",  # "Thẻ bị khóa"
}
EXPIRED_TEST_CARD = "9704194841945513"  # "Thẻ bị hết hạn": refused on the form, the customer may retry
# Code 10 means "wrong card/account details more than 3 times".
MAX_CARD_FAILURES = 3

RESPONSE_CANCELLED = "24"
RESPONSE_WRONG_OTP = "13"
RESPONSE_TOO_MANY_CARD_FAILURES = "10"


def _token_url(path: str, session: PaymentSession) -> str:
    return f"{path}?{urlencode({'token': session.token})}"


def _raw_query(request: Request) -> dict[str, str]:
    # Decoded straight from the raw query so that '+' is a space exactly as the merchant's encoder meant.
    query = request.scope["query_string"].decode("utf-8", "replace")
    return dict(parse_qsl(query, keep_blank_values=True))


def _live_session(sim: SimulatorState, request: Request) -> PaymentSession | Redirect:
    session = sim.store.session(request.query_params.get("token", ""))
    if session is None:
        return Redirect(error_page_url(ERROR_UNKNOWN))
    txn = session.transaction
    if txn.finished:
        return Redirect(return_url(txn))
    if sim.store.clock() >= session.expires_at:
        return Redirect(error_page_url(ERROR_PAYMENT_TIMEOUT))
    return session


def _page_context(session: PaymentSession) -> dict[str, object]:
    txn = session.transaction
    return {
        "merchant_name": txn.merchant.name or txn.tmn_code,
        "tmn_code": txn.tmn_code,
        "txn_ref": txn.txn_ref,
        "amount": f"{txn.amount:,}".replace(",", "."),
        "order_info": txn.order_info,
        "bank": TEST_CARD_BANK,
        "card_action": _token_url(CARD_PATH, session),
        "otp_action": _token_url(OTP_PATH, session),
        "cancel_action": _token_url(CANCEL_PATH, session),
        "expires_at": session.expires_at.strftime("%H:%M:%S %d/%m/%Y"),
        "error": None,
    }


async def _finish(
    sim: SimulatorState, session: PaymentSession, response_code: str, card: CardUsed | None = None
) -> Redirect:
    txn = session.transaction
    await finish_and_notify(sim.store, sim.ipn, txn, response_code, card=card, wait_for_first_ipn=False)
    log.info("payment.finished", tmn_code=txn.tmn_code, txn_ref=txn.txn_ref, response_code=response_code)
    return Redirect(return_url(txn))


@get(PAY_PATH, sync_to_thread=False)
def start_payment(request: Request) -> Redirect:
    sim = simulator_of(request.app.state)
    params = _raw_query(request)
    raw = request.scope["query_string"].decode("utf-8", "replace")
    checked = check_pay_request(params, sim.config, sim.store.clock(), raw)
    if isinstance(checked, Rejected):
        log.info("payment.rejected", error_code=checked.error_code, reason=checked.reason)
        return Redirect(error_page_url(checked.error_code))

    existing = sim.store.find(checked.merchant.tmn_code, checked.txn_ref)
    if existing is None:
        txn = sim.store.open_transaction(checked)
    elif existing.finished or existing.amount != checked.amount:
        log.info("payment.rejected", error_code=ERROR_TRANSACTION_EXISTS, reason="TxnRef already used")
        return Redirect(error_page_url(ERROR_TRANSACTION_EXISTS))
    else:
        # The customer reloaded or came back: same pending order, a fresh page session.
        txn = existing
    session = sim.store.open_session(txn)
    log.info("payment.opened", tmn_code=txn.tmn_code, txn_ref=txn.txn_ref, amount=txn.amount)
    return Redirect(_token_url(METHOD_PATH, session))


@get(METHOD_PATH, sync_to_thread=False)
def payment_method_page(request: Request) -> Template | Redirect:
    sim = simulator_of(request.app.state)
    session = _live_session(sim, request)
    if isinstance(session, Redirect):
        return session
    if session.step == "otp":
        return Redirect(_token_url(OTP_PATH, session))
    return Template(template_name="card.html", context=_page_context(session))


@post(CARD_PATH, status_code=200)
async def submit_card(request: Request) -> Template | Redirect:
    sim = simulator_of(request.app.state)
    session = _live_session(sim, request)
    if isinstance(session, Redirect):
        return session
    if session.step != "card":
        return Redirect(_token_url(OTP_PATH, session))

    form = await request.form()
    number = "".join(str(form.get("card_number", "")).split())
    holder = " ".join(str(form.get("card_holder", "")).split()).upper()
    issue_date = "".join(str(form.get("card_date", "")).split())
    details_ok = holder == TEST_CARD_HOLDER and issue_date == TEST_CARD_ISSUE_DATE
    card = CardUsed(number=number, holder=holder)

    if details_ok and number in DECLINING_TEST_CARDS:
        return await _finish(sim, session, DECLINING_TEST_CARDS[number], card)
    if details_ok and number == TEST_CARD_NUMBER:
        session.step = "otp"
        session.card_number, session.card_holder = number, holder
        return Redirect(_token_url(OTP_PATH, session))

    session.card_failures += 1
    if session.card_failures > MAX_CARD_FAILURES:
        return await _finish(sim, session, RESPONSE_TOO_MANY_CARD_FAILURES)
    context = _page_context(session)
    if details_ok and number == EXPIRED_TEST_CARD:
        context["error"] = "Thẻ đã hết hạn sử dụng. Card expired."
    else:
        context["error"] = "Thông tin thẻ không hợp lệ. Invalid card details."
    context["attempts_left"] = MAX_CARD_FAILURES - session.card_failures + 1
    return Template(template_name="card.html", context=context)


@get(OTP_PATH, sync_to_thread=False)
def otp_page(request: Request) -> Template | Redirect:
    sim = simulator_of(request.app.state)
    session = _live_session(sim, request)
    if isinstance(session, Redirect):
        return session
    if session.step != "otp":
        return Redirect(_token_url(METHOD_PATH, session))
    return Template(template_name="otp.html", context=_page_context(session))


@post(OTP_PATH, status_code=200)
async def submit_otp(request: Request) -> Template | Redirect:
    sim = simulator_of(request.app.state)
    session = _live_session(sim, request)
    if isinstance(session, Redirect):
        return session
    if session.step != "otp" or session.card_number is None or session.card_holder is None:
        return Redirect(_token_url(METHOD_PATH, session))
    form = await request.form()
    otp = str(form.get("otp", "")).strip()
    card = CardUsed(number=session.card_number, holder=session.card_holder)
    return await _finish(sim, session, "00" if otp == TEST_OTP else RESPONSE_WRONG_OTP, card)


@post(CANCEL_PATH, status_code=200)
async def cancel_payment(request: Request) -> Redirect:
    sim = simulator_of(request.app.state)
    session = _live_session(sim, request)
    if isinstance(session, Redirect):
        return session
    return await _finish(sim, session, RESPONSE_CANCELLED)


@get(ERROR_PAGE_PATH, sync_to_thread=False)
def error_page(request: Request) -> Template:
    code = request.query_params.get("code", "")
    return Template(template_name="error.html", context={"code": code, "message": error_page_message(code)})


PAYMENT_PAGE_HANDLERS = [
    start_payment,
    payment_method_page,
    submit_card,
    otp_page,
    submit_otp,
    cancel_payment,
    error_page,
]
