"""PlatformClient edge cases driven through ``httpx.MockTransport`` (no sockets needed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, strategies as st

from artenic_opt.errors import PlatformResponseError, PlatformUnreachableError
from artenic_opt.platform.client import PlatformClient

Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, **kwargs: Any) -> tuple[PlatformClient, list[float]]:
    waits: list[float] = []
    client = PlatformClient(
        "http://platform.test",
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
        **kwargs,
    )
    return client, waits


def sequence(*responses: httpx.Response | Exception) -> Handler:
    """A handler that answers with ``responses`` in turn (raising the exceptions)."""
    pending = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = pending.pop(0) if len(pending) > 1 else pending[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def rate_limited(headers: dict[str, str], body: Any = None) -> httpx.Response:
    return httpx.Response(429, headers=headers, json=body or {"error": {"code": "RATE"}})


def test_retry_after_as_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=20)
    client, waits = make(
        sequence(
            rate_limited({"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200, json=[]),
        )
    )
    assert client.list_budgets() == []
    assert len(waits) == 1
    assert 15 <= waits[0] <= 20


def test_retry_after_from_the_body_when_the_header_is_missing() -> None:
    body = {"error": {"code": "RATE_LIMIT_EXCEEDED", "details": {"retry_after_seconds": 2.5}}}
    client, waits = make(sequence(rate_limited({}, body), httpx.Response(200, json=[])))
    client.list_budgets()
    assert waits == [2.5]


@pytest.mark.parametrize("header", ["soon", "-3", "nan", "Tue, 99 Foo 2026 00:00:00 GMT"], ids=str)
def test_unusable_retry_after_falls_back_to_backoff(header: str) -> None:
    client, waits = make(
        sequence(rate_limited({"Retry-After": header}, ["x"]), httpx.Response(200, json=[]))
    )
    client.list_budgets()
    assert waits == [0.5]


def test_past_retry_after_date_waits_zero() -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    client, waits = make(
        sequence(
            rate_limited({"Retry-After": format_datetime(past, usegmt=True)}),
            httpx.Response(200, json=[]),
        )
    )
    client.list_budgets()
    assert waits == [0.0]


@given(st.integers(min_value=0, max_value=10_000))
def test_retry_after_seconds_is_bounded(seconds: int) -> None:
    client, waits = make(
        sequence(rate_limited({"Retry-After": str(seconds)}), httpx.Response(200, json=[])),
        max_backoff=30.0,
    )
    client.list_budgets()
    assert waits == [min(30.0, float(seconds))]


@given(
    st.integers(min_value=0, max_value=8),
    st.floats(min_value=0, max_value=10),
    st.floats(min_value=0, max_value=60),
)
def test_backoff_sequence_is_exponential_and_capped(
    retries: int, backoff: float, cap: float
) -> None:
    client, waits = make(
        lambda request: httpx.Response(503, json={}),
        max_retries=retries,
        backoff=backoff,
        max_backoff=cap,
    )
    with pytest.raises(PlatformResponseError):
        client.list_budgets()
    assert waits == [min(cap, backoff * 2**i) for i in range(retries)]
    assert all(w <= cap for w in waits)


def test_read_error_and_remote_protocol_error_are_retried() -> None:
    client, waits = make(
        sequence(
            httpx.ReadError("reset"),
            httpx.RemoteProtocolError("peer closed connection"),
            httpx.Response(200, json=[]),
        )
    )
    assert client.list_budgets() == []
    assert waits == [0.5, 1.0]


def test_other_transport_errors_name_their_kind() -> None:
    client, _ = make(sequence(httpx.UnsupportedProtocol("nope")), max_retries=0)
    with pytest.raises(PlatformUnreachableError, match="UnsupportedProtocol"):
        client.list_budgets()


def test_decoding_error_is_a_response_error() -> None:
    client, _ = make(
        lambda request: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"xx")
    )
    with pytest.raises(PlatformResponseError, match="cannot be decoded"):
        client.list_budgets()


def test_redirect_loop_is_a_response_error() -> None:
    client, _ = make(
        lambda request: httpx.Response(307, headers={"Location": "http://platform.test/loop"})
    )
    with pytest.raises(PlatformResponseError, match="redirected"):
        client.list_budgets()


def test_empty_and_204_bodies() -> None:
    client, _ = make(sequence(httpx.Response(204)))
    with pytest.raises(PlatformResponseError, match="got null"):
        client.list_budgets()
    client, _ = make(sequence(httpx.Response(200, content=b"")))
    with pytest.raises(PlatformResponseError, match="expected a JSON object, got null"):
        client.health_ready()


@pytest.mark.parametrize(
    ("body", "kind"),
    [(True, "a boolean"), (3, "a number"), ("x", "a string"), ({"a": 1}, "an object")],
)
def test_wrong_top_level_kinds_are_named(body: Any, kind: str) -> None:
    client, _ = make(lambda request: httpx.Response(200, json=body))
    with pytest.raises(PlatformResponseError, match=f"expected a JSON array, got {kind}"):
        client.list_budgets()


def test_object_of_the_wrong_shape() -> None:
    client, _ = make(lambda request: httpx.Response(200, json={"database": "connected"}))
    with pytest.raises(
        PlatformResponseError, match="unexpected body for GET /health/ready: status"
    ):
        client.health_ready()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["a list"]',
        b'{"error": "flat string"}',
        b'{"error": {"code": 7, "message": null, "request_id": ""}}',
        b'{"error": {"code": "VALIDATION_ERROR", "details": {"errors": []}}}',
        b'{"error": {"code": "VALIDATION_ERROR", "details": {"errors": [{"loc": [], "msg": ""}]}}}',
    ],
)
def test_odd_error_bodies_still_give_a_clean_message(body: bytes) -> None:
    client, _ = make(
        lambda request: httpx.Response(422, content=body, headers={"x-request-id": "srv-1"})
    )
    with pytest.raises(PlatformResponseError) as info:
        client.list_budgets()
    assert str(info.value).startswith("platform answered 422 for GET /api/v1/budgets")
    assert info.value.request_id == "srv-1"


def test_validation_detail_without_a_location() -> None:
    body = {"error": {"code": "VALIDATION_ERROR", "details": {"errors": [{"msg": "bad input"}]}}}
    client, _ = make(lambda request: httpx.Response(422, json=body))
    with pytest.raises(PlatformResponseError, match=r"\(bad input\)"):
        client.list_budgets()


def test_server_error_message_other_than_the_generic_one_is_shown() -> None:
    body = {"error": {"code": "PROVIDER", "message": "upstream exploded", "request_id": "r-9"}}
    client, _ = make(lambda request: httpx.Response(502, json=body), max_retries=0)
    with pytest.raises(
        PlatformResponseError, match=r"server error 502 .*: upstream exploded"
    ) as info:
        client.list_budgets()
    assert info.value.request_id == "r-9"


def test_ping() -> None:
    client, _ = make(lambda request: httpx.Response(200, json={"status": "ready"}))
    assert client.ping()
    client, _ = make(lambda request: httpx.Response(503, json={}))
    assert not client.ping()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client, waits = make(refuse)
    assert not client.ping()
    assert waits == []


def test_request_body_and_query_encoding() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"job_id": "j-1"})

    client, _ = make(handler)
    assert client.dispatch(service="s", model="m", provider="mock", region="eu west") == "j-1"
    body = json.loads(seen[0].content)
    assert body["region"] == "eu west"
    assert body["workload_spec"] is None
    assert seen[0].headers["content-type"] == "application/json"
