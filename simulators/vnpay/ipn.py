"""IPN delivery: a server-to-server GET of the signed result to the merchant's registered IPN URL.

VNPay counts an IPN as delivered only when the merchant answers JSON with RspCode 00 (recorded) or 02
(already recorded); anything else, a timeout or an HTTP error is retried. Retries run as background
tasks that the app cancels on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import structlog

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
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, timeout=self._config.ipn_timeout
            )
        return self._client

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
            self._spawn(self._retry(txn))
        return first

    def notify_in_background(self, txn: Transaction) -> None:
        """What the payment page does: the browser is redirected while the IPN goes out on its own."""
        self._spawn(self._notify_quietly(txn))

    async def resend(self, txn: Transaction) -> IpnAttempt:
        """One extra IPN on request of the test-control API; faults do not apply to it."""
        return await self._send(txn, "manual", txn.result_params())

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_quietly(self, txn: Transaction) -> None:
        try:
            await self.notify(txn)
        except Exception:  # a background task has no caller to report to
            log.exception("ipn.notify_failed", tmn_code=txn.tmn_code, txn_ref=txn.txn_ref)

    async def _retry(self, txn: Transaction) -> None:
        for wait in self._config.ipn_retry_intervals:
            await asyncio.sleep(wait)
            if txn.ipn_acknowledged:
                return
            faults = self._faults()
            if faults.ipn_drop:
                return
            await self._deliver(txn, "retry", faults)
            if txn.ipn_acknowledged:
                return
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
        try:
            # ASGI transports ignore httpx timeouts, so the deadline is enforced here for every transport.
            async with asyncio.timeout(self._config.ipn_timeout):
                response = await self._http().get(url)
        except TimeoutError:
            attempt.error = f"timeout after {self._config.ipn_timeout:g}s"
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        else:
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
