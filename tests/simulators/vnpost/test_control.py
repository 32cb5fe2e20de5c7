"""The control API: scripted progressions, advancing to a named status, signed pushes and their
re-delivery, faults, and the daily COD remittance file."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.simulators.vnpost.conftest import Sim, signature_ok

pytestmark = pytest.mark.anyio

VIETNAM = timezone(timedelta(hours=7))
COD = [{"code": "GTG021", "propValue": "PROP0018:150000"}, {"code": "GTG071", "propValue": None}]


async def _run(sim: Sim, original_id: str) -> list[tuple[int, str | None]]:
    """Advance until the simulator says the order is at its end; (status, cause) of each push's event."""
    steps = []
    for _ in range(30):
        r = await sim.advance(original_id)
        if r.status_code == 409:
            break
        assert r.status_code == 200, r.text
        [event] = r.json()["events"]
        steps.append((event["status"], event["causeCode"]))
    await sim.drain()
    return steps


async def _scenario(sim: Sim, original_id: str, name: str) -> None:
    r = await sim.client.put(f"/_sim/vnpost/orders/{original_id}/scenario", json={"scenario": name})
    assert r.status_code == 200, r.text


async def test_delivered(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    assert await _run(sim, original_id) == [(6, None), (7, None), (10, None), (11, None), (12, None), (14, None)]
    assert [e["status"] for e in sim.partner.events()] == [6, 7, 10, 11, 12, 14]


async def test_two_failed_attempts_held_and_returned_to_the_agency(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await _scenario(sim, original_id, "returned")
    steps = await _run(sim, original_id)
    assert steps == [
        (6, None), (7, None), (10, None), (11, None), (12, None),
        (15, "L01"), (12, None), (15, "L05"), (16, None), (17, None), (18, None), (19, None),
    ]  # fmt: skip
    failures = [e for e in sim.partner.events() if e["status"] == 15]
    assert [f["causeName"] for f in failures] == [
        "Người nhận vắng nhà, hẹn phát lại",
        "Không liên lạc được với người nhận",
    ]


async def test_cancelled_before_pickup(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await _scenario(sim, original_id, "cancelled")
    assert await _run(sim, original_id) == [(9, None)]


async def test_cod_collected_and_remitted(sim: Sim) -> None:
    answer = await sim.book(addonService=COD)
    original_id = answer["originalID"]
    r = await sim.client.get(f"/_sim/vnpost/orders/{original_id}")
    assert r.json()["scenario"] == "cod"  # the default of an order with COD
    assert [s for s, _ in await _run(sim, original_id)] == [6, 7, 10, 11, 12, 14, 21]
    cod_events = [e for e in sim.partner.events() if e["status"] in (14, 21)]
    assert [e["codAmount"] for e in cod_events] == [150_000, 150_000]

    today = datetime.now(VIETNAM).date()
    r = await sim.client.get("/_sim/vnpost/cod-remittance", params={"date": today.isoformat()})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["original_id"] == original_id and row["item_code"] == cod_events[0]["itemCode"]
    assert (row["cod_amount"], row["remitted_amount"], row["postage_collected"]) == (
        "150000",
        "150000",
        str(answer["totalFee"]),
    )
    assert datetime.fromisoformat(row["remitted_at"]) > datetime.fromisoformat(row["delivered_at"])
    other = await sim.client.get(
        "/_sim/vnpost/cod-remittance", params={"date": (today - timedelta(days=1)).isoformat()}
    )
    assert other.text.splitlines() == [r.text.splitlines()[0]]  # the header only


@pytest.mark.parametrize("date", ["", "2026-13-01", "05/12/2026", "2026-12-5"])
async def test_the_remittance_wants_a_date(sim: Sim, date: str) -> None:
    r = await sim.client.get("/_sim/vnpost/cod-remittance", params={"date": date})
    assert r.status_code == 422


async def test_pushes_are_signed_with_the_dev_key_and_carry_wire_times(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    r = await sim.advance(original_id, {"to": "delivered"})
    push = r.json()["push"]
    assert push == sim.partner.received[-1]
    assert signature_ok(push)
    assert not signature_ok({**push, "Data": push["Data"].replace('"status":14', '"status":15')})
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", push["SendDate"])
    events = json.loads(push["Data"])
    assert [e["status"] for e in events] == [6, 7, 10, 11, 12, 14]  # one push, every step up to the status
    times = [datetime.strptime(e["eventTime"], "%d/%m/%Y %H:%M:%S") for e in events]
    assert times == sorted(set(times))  # strictly increasing, so (order, code, time) tells events apart
    assert (
        events[-1]["orderCode"] == (await sim.client.get(f"/_sim/vnpost/orders/{original_id}")).json()["saleOrderCode"]
    )


async def test_advance_to_a_status_off_the_script_with_a_reason(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await sim.advance(original_id, {"to": "out_for_delivery"})
    r = await sim.advance(original_id, {"to": 15, "reason": "L02"})
    [event] = r.json()["events"]
    assert (event["status"], event["causeCode"], event["causeName"]) == (15, "L02", "Không tìm thấy địa chỉ người nhận")
    # The script goes on where it was: the delivered scenario's next step is 14.
    assert r.json()["order"]["remaining"] == [14]


@pytest.mark.parametrize(
    "body",
    [{"to": "teleported"}, {"to": 99}, {"reason": "L99"}, {"to": "in_transit", "reason": "L01"}, {"to": "cod_paid"}],
)
async def test_an_advance_that_cannot_be_is_409(sim: Sim, body: dict[str, object]) -> None:
    original_id = (await sim.book())["originalID"]
    assert (await sim.advance(original_id, body)).status_code == 409


async def test_an_order_at_its_end_does_not_move_and_bad_requests_are_refused(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    await sim.advance(original_id, {"to": "delivered"})
    assert (await sim.advance(original_id)).status_code == 409
    assert (await sim.advance("000")).status_code == 404
    r = await sim.client.post(f"/_sim/vnpost/orders/{original_id}/advance", json={"to": 14, "extra": 1})
    assert r.status_code == 422


async def test_the_scenario_is_chosen_before_the_order_moves(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    bad = await sim.client.put(f"/_sim/vnpost/orders/{original_id}/scenario", json={"scenario": "lost"})
    assert bad.status_code == 422
    await sim.advance(original_id)
    late = await sim.client.put(f"/_sim/vnpost/orders/{original_id}/scenario", json={"scenario": "returned"})
    assert late.status_code == 409


async def test_a_push_not_answered_200_is_sent_again_until_it_is(sim: Sim) -> None:
    sim.partner.statuses = [503, 500, 200]
    original_id = (await sim.book())["originalID"]
    r = await sim.advance(original_id)
    assert r.json()["sent"] and not r.json()["acknowledged"]
    await sim.drain()
    order = (await sim.client.get(f"/_sim/vnpost/orders/{original_id}")).json()
    [push] = order["pushes"]
    assert [a["http_status"] for a in push["attempts"]] == [503, 500, 200]
    assert [a["kind"] for a in push["attempts"]] == ["push", "retry", "retry"]
    assert push["acknowledged"]
    datas = {p["Data"] for p in sim.partner.received}
    assert len(datas) == 1  # the same signed Data every time


async def test_faults_duplicate_drop_and_reorder_pushes(sim: Sim) -> None:
    original_id = (await sim.book())["originalID"]
    r = await sim.client.put("/_sim/vnpost/faults", json={"push_duplicate": 2})
    assert r.status_code == 200 and r.json()["push_duplicate"] == 2
    await sim.advance(original_id)
    assert len(sim.partner.received) == 3

    await sim.client.put("/_sim/vnpost/faults", json={"push_drop": True})
    r = await sim.advance(original_id)
    assert not r.json()["sent"] and len(sim.partner.received) == 3
    resent = await sim.client.post(f"/_sim/vnpost/orders/{original_id}/push")
    assert resent.json()["attempt"]["http_status"] == 200 and len(sim.partner.received) == 4

    await sim.client.put("/_sim/vnpost/faults", json={"push_out_of_order": True})
    await sim.advance(original_id)  # 10, held back
    assert len(sim.partner.received) == 4
    await sim.advance(original_id)  # 11 goes out, then 10
    assert [json.loads(p["Data"])[0]["status"] for p in sim.partner.received[4:]] == [11, 10]

    assert (await sim.client.delete("/_sim/vnpost/faults")).status_code == 204
    assert (await sim.client.get("/_sim/vnpost/faults")).json()["push_out_of_order"] is False


async def test_api_faults_answer_503(sim: Sim) -> None:
    await sim.client.put("/_sim/vnpost/faults", json={"api_http_5xx": 1})
    assert (await sim.call("CreateOrder", {})).status_code == 503
    assert (await sim.call("orderTracking", method="GET", originalId="000")).status_code == 404


@pytest.mark.parametrize("body", [{"push_duplicate": -1}, {"nonsense": True}, {"push_drop": "yes"}])
async def test_bad_faults_are_422(sim: Sim, body: dict[str, object]) -> None:
    assert (await sim.client.put("/_sim/vnpost/faults", json=body)).status_code == 422


async def test_the_index_page_answers(sim: Sim) -> None:
    r = await sim.client.get("/")
    assert r.status_code == 200 and "/_sim/vnpost/" in r.text
