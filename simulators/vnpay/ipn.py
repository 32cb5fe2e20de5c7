"""IPN delivery: a server-to-server GET of the signed result to the merchant's registered IPN URL.

VNPay counts an IPN as delivered only when the merchant answers JSON with RspCode 00 (recorded) or 02
(already recorded); anything else, a timeout or an HTTP error is retried. Retries run as background
tasks that the app cancels on shutdown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import structlog

from simulators.kit.courier import Courier

from .config import SimulatorConfig
from .faults import Faults
from .store import NO_TRANSACTION_NO, IpnAttempt, Transaction
from .wire import append_query, now_vn, signed_query

log = structlog.get_logger("simulators.vnpay.ipn")

ACK_CODES = frozenset({"00", "02"})
# The stale replay of ipn_out_of_order: a failure VNPay might have sent before the final result.
STALE_RESPONSE_CODE = "99"
STALE_TRANSACTION_STATUS = "02"


class IpnDispatcher:
    def __init__(
        self,
        config: SimulatorConfig,
        faults: Callable[[], Faults],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._faults = faults
        self._courier = Courier(config.ipn_timeout, transport)

    async def notify(self, txn: Transaction) -> IpnAttempt | None:
        """Send the result IPN now and schedule retries; returns the first attempt (None when dropped)."""
        faults = self._faults()
        if faults.ipn_drop:
            txn.ipn_dropped = True
            log.info("ipn.dropped", tmn_code=txn.tmn_code, txn_ref=txn.txn_ref)
            return None
        first = await self._deliver(txn, "notify", faults)
        if faults.ipn_out_of_order and not txn.stale_ipn_sent:
            txn.stale_ipn_sent = True
            await self._send(txn, "stale", self._stale_params(txn))
        if not txn.ipn_acknowledged and self._config.ipn_retry_intervals:
            self._courier.spawn(self._retry(txn))
        return first

    def notify_in_background(self, txn: Transaction) -> None:
        """What the payment page does: the browser is redirected while the IPN goes out on its own."""
        self._courier.spawn_quietly(
            self.notify(txn), log, "ipn.notify_failed", tmn_code=txn.tmn_code, txn_ref=txn.txn_ref
        )

    async def resend(self, txn: Transaction) -> IpnAttempt:
        """One extra IPN on request of the test-control API; faults do not apply to it."""
        return await self._send(txn, "manual", txn.result_params())

    @property
    def pending(self) -> int:
        return self._courier.pending

    async def drain(self) -> None:
        """Wait for every delivery in flight and every re-delivery scheduled."""
        await self._courier.drain()

    async def aclose(self) -> None:
        await self._courier.aclose()

    async def _retry(self, txn: Transaction) -> None:
        settled = await self._courier.redeliver(
            self._config.ipn_retry_intervals,
            lambda: txn.ipn_acknowledged or self._faults().ipn_drop,
            lambda: self._deliver(txn, "retry", self._faults()),
        )
        if not settled:
            log.warning("ipn.gave_up", tmn_code=txn.tmn_code, txn_ref=txn.txn_ref, attempts=len(txn.ipn_attempts))

    async def _deliver(self, txn: Transaction, kind: str, faults: Faults) -> IpnAttempt:
        """One delivery: the IPN itself, then the copies the ipn_duplicate fault adds."""
        if faults.ipn_delay_ms:
            await asyncio.sleep(faults.ipn_delay_ms / 1000)
        params = txn.result_params()
        attempt = await self._send(txn, kind, params)
        for _ in range(faults.ipn_duplicate):
            await self._send(txn, "duplicate", params)
        return attempt

    def _stale_params(self, txn: Transaction) -> dict[str, str]:
        params = txn.result_params()
        params.update(
            vnp_ResponseCode=STALE_RESPONSE_CODE,
            vnp_TransactionStatus=STALE_TRANSACTION_STATUS,
            vnp_TransactionNo=NO_TRANSACTION_NO,
            vnp_BankTranNo="",
        )
        return params

    async def _send(self, txn: Transaction, kind: str, params: dict[str, str]) -> IpnAttempt:
        attempt = IpnAttempt(
            number=len(txn.ipn_attempts) + 1,
            kind=kind,
            sent_at=now_vn(),
            response_code=params["vnp_ResponseCode"],
            transaction_status=params["vnp_TransactionStatus"],
        )
        txn.ipn_attempts.append(attempt)
        url = append_query(txn.merchant.ipn_url, signed_query(params, txn.merchant.hash_secret))
        response, attempt.error = await self._courier.send("GET", url)
        if response is not None:
            attempt.http_status = response.status_code
            self._read_ack(attempt, response)
        # A stale replay is noise the merchant must ignore; it does not count as the result's delivery.
        if attempt.acknowledged and kind != "stale":
            txn.ipn_acknowledged = True
        log.info(
            "ipn.attempt",
            tmn_code=txn.tmn_code,
            txn_ref=txn.txn_ref,
            attempt=attempt.number,
            kind=kind,
            http_status=attempt.http_status,
            rsp_code=attempt.rsp_code,
            error=attempt.error,
        )
        return attempt

    @staticmethod
    def _read_ack(attempt: IpnAttempt, response: httpx.Response) -> None:
        try:
            body = json.loads(response.content)
        except ValueError:
            attempt.error = "answer is not JSON"
            return
        if not isinstance(body, dict):
            attempt.error = "answer is not a JSON object"
            return
        rsp_code = body.get("RspCode")
        attempt.rsp_code = None if rsp_code is None else str(rsp_code)
        message = body.get("Message")
        attempt.message = None if message is None else str(message)
        attempt.acknowledged = response.is_success and attempt.rsp_code in ACK_CODES
