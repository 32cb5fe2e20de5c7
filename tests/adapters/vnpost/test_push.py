"""Status pushes: verified over the exact Data string with VNPost's key before anything is read, and
bounded; the answers VNPost expects."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest

from adapters.vnpost.config import VNPostConfig
from adapters.vnpost.provider import VNPostProvider
from adapters.vnpost.responses import MAX_PUSH_BYTES, MAX_PUSH_EVENTS
from adapters.vnpost.signing import verify
from contracts.errors import InvalidSignature, ProviderRejected
from contracts.providers import Inbound
from contracts.shipping import ShipmentStatus
from tests.adapters.vnpost.conftest import KeyPair, fixture

SIGNED = fixture("push_failed_attempt.json")


def _inbound(body: bytes | dict[str, object]) -> Inbound:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return Inbound(method="POST", query="", headers={"content-type": "application/json"}, body=raw)


def _event(**changes: object) -> dict[str, object]:
    event: dict[str, object] = {
        "originalId": "2612050000123",
        "itemCode": "EB123456785VN",
        "status": 14,
        "statusName": "Phát thành công",
        "postOfficeCode": "791000",
        "eventTime": "05/12/2026 11:00:00",
        "postman": "Bưu tá 791000",
        "codAmount": 50000,
    }
    return {**event, **changes}


def test_the_simulators_signing_vector_verifies_with_the_default_key(config: VNPostConfig) -> None:
    events = VNPostProvider(config).parse_push(_inbound(SIGNED))
    assert [(e.code, e.status) for e in events] == [
        ("12", ShipmentStatus.OUT_FOR_DELIVERY),
        ("15", ShipmentStatus.DELIVERY_FAILED),
    ]
    failed = events[1]
    assert failed.occurred_at == datetime.fromisoformat("2026-12-05T10:42:17+07:00")
    assert (failed.reason_code, failed.reason) == ("L01", "Người nhận vắng nhà, hẹn phát lại")
    assert (failed.item_number, failed.location, failed.carrier_order_id) == (
        "EB123456785VN",
        "791000",
        "2612050000123",
    )
    assert failed.raw["orderCode"] == "shp_01JE8Q3T9W0000000000000000"


def test_a_push_with_one_character_of_data_changed_is_refused(config: VNPostConfig) -> None:
    tampered = {**SIGNED, "Data": SIGNED["Data"].replace('"status":15', '"status":14')}
    with pytest.raises(InvalidSignature):
        VNPostProvider(config).parse_push(_inbound(tampered))


def test_the_signature_covers_the_exact_text_not_the_json_it_reads_as(config: VNPostConfig) -> None:
    respaced = {**SIGNED, "Data": json.dumps(json.loads(SIGNED["Data"]), ensure_ascii=False)}
    with pytest.raises(InvalidSignature):
        VNPostProvider(config).parse_push(_inbound(respaced))


def test_a_push_signed_with_another_key_is_refused(config: VNPostConfig, keys: KeyPair) -> None:
    data = json.dumps([_event()])
    with pytest.raises(InvalidSignature):
        VNPostProvider(config).parse_push(_inbound(keys.push(data)))
    assert not verify(VNPostProvider(config)._push_key, data, keys.sign(data))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        json.dumps({"Data": [], "SignData": "x"}).encode(),
        json.dumps({"Data": "[]"}).encode(),
        json.dumps({"Data": "[]", "SignData": "***not base64***"}).encode(),
        json.dumps({"Data": "[]", "SignData": "A" * 5000}).encode(),
    ],
)
def test_a_push_that_cannot_be_verified_is_refused(config: VNPostConfig, body: bytes) -> None:
    with pytest.raises(InvalidSignature):
        VNPostProvider(config).parse_push(_inbound(body))


def test_an_envelope_with_a_key_twice_is_refused_before_verifying(config: VNPostConfig) -> None:
    # Which Data would be believed is up to the JSON reader: the push is not read at all.
    body = (
        '{"Data": ' + json.dumps(SIGNED["Data"]) + ', "Data": "[]", "SendDate": "05/12/2026 10:42:20", '
        '"SignData": ' + json.dumps(SIGNED["SignData"]) + "}"
    ).encode()
    with pytest.raises(InvalidSignature, match="twice"):
        VNPostProvider(config).parse_push(_inbound(body))


def test_signed_data_with_a_key_twice_is_not_read(config: VNPostConfig, keys: KeyPair) -> None:
    provider = VNPostProvider(replace(config, push_public_key_pem=keys.public_pem))
    data = json.dumps([_event()])[:-2] + ', "status": 19}]'
    with pytest.raises(ProviderRejected, match="twice"):
        provider.parse_push(_inbound(keys.push(data)))


def test_an_oversize_push_is_refused_unread(config: VNPostConfig) -> None:
    padded = json.dumps({**SIGNED, "Pad": "x" * MAX_PUSH_BYTES}).encode()
    with pytest.raises(InvalidSignature, match="larger"):
        VNPostProvider(config).parse_push(_inbound(padded))


def test_a_signed_push_with_too_many_events_is_refused(config: VNPostConfig, keys: KeyPair) -> None:
    provider = VNPostProvider(replace(config, push_public_key_pem=keys.public_pem))
    data = json.dumps(
        [_event(eventTime=f"05/12/2026 11:{i // 60:02d}:{i % 60:02d}") for i in range(MAX_PUSH_EVENTS + 1)]
    )
    with pytest.raises(ProviderRejected, match="more than"):
        provider.parse_push(_inbound(keys.push(data)))
    assert len(provider.parse_push(_inbound(keys.push(json.dumps([_event()] * MAX_PUSH_EVENTS))))) == MAX_PUSH_EVENTS


@pytest.mark.parametrize(
    "event",
    [
        _event(status="abc"),
        _event(eventTime="2026-12-05T11:00:00+07:00"),
        _event(codAmount=50000.5),
        _event(codAmount="50000"),
        _event(originalId=None),
        _event(postman="x" * 501),
        "not an object",
    ],
)
def test_a_signed_event_that_does_not_read_is_refused(config: VNPostConfig, keys: KeyPair, event: object) -> None:
    provider = VNPostProvider(replace(config, push_public_key_pem=keys.public_pem))
    with pytest.raises(ProviderRejected):
        provider.parse_push(_inbound(keys.push(json.dumps([event]))))


def test_signed_events_are_read_oldest_first_with_cod(config: VNPostConfig, keys: KeyPair) -> None:
    provider = VNPostProvider(replace(config, push_public_key_pem=keys.public_pem))
    later = _event(status=21, statusName="Đã trả tiền COD", eventTime="06/12/2026 09:00:00")
    events = provider.parse_push(_inbound(keys.push(json.dumps([later, _event()], ensure_ascii=False))))
    assert [(e.code, e.status, e.cod_amount) for e in events] == [
        ("14", ShipmentStatus.DELIVERED, 50000),
        ("21", ShipmentStatus.DELIVERED, 50000),
    ]
    assert events[1].description == "Đã trả tiền COD"


def test_an_empty_signed_push_is_refused(config: VNPostConfig, keys: KeyPair) -> None:
    provider = VNPostProvider(replace(config, push_public_key_pem=keys.public_pem))
    with pytest.raises(ProviderRejected):
        provider.parse_push(_inbound(keys.push("[]")))


def test_a_push_is_acknowledged_with_200_and_asked_again_with_another_status(config: VNPostConfig) -> None:
    provider = VNPostProvider(config)
    accepted, again = provider.acknowledge_push(True), provider.acknowledge_push(False)
    assert accepted.status_code == 200 and json.loads(accepted.body) == {"status": "OK"}
    assert again.status_code != 200 and json.loads(again.body) == {"status": "RETRY"}
