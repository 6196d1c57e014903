"""The web's bounds as pure functions: what a JSON body costs (web/api/body.py) and what a
connection counts against (web/server.py). The service tests try them on a real server."""

from __future__ import annotations

import json
import socket

import pytest

from web.api.body import MAX_CONTAINERS, MAX_VALUES, cost_fault
from web.server import AddressGate, address_key


@pytest.mark.parametrize(
    "doc",
    [
        {"language": "c", "source": "int a[3] = {1, 2, 3};" * 20_000, "stdin": "[1, 2]\n" * 50_000},
        {"submissions": [{"language": "c", "source": "x", "problem": "p"}] * 100},
        {"s": '\\"[[[[' * 50_000, "t": "\\" * 50_001},  # escaped quotes and backslashes inside strings
    ],
)
def test_a_body_whose_brackets_and_commas_are_inside_strings_costs_little(doc: object) -> None:
    assert cost_fault(json.dumps(doc).encode()) is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" + b"[]," * (MAX_CONTAINERS + 1) + b"[]]", "arrays and objects"),
        (b"[" + b"{}," * (MAX_CONTAINERS + 1) + b"{}]", "arrays and objects"),
        (b"[" * (MAX_CONTAINERS + 1), "arrays and objects"),
        (b"[" + b"0," * (MAX_VALUES + 1) + b"0]", "values"),
        (b'{"a": "\\\\", "b": [' + b"[]," * (MAX_CONTAINERS + 1) + b"[]]}", "arrays and objects"),
    ],
)
def test_a_body_with_too_many_containers_or_values_outside_strings_is_refused(body: bytes, says: str) -> None:
    fault = cost_fault(body)
    assert fault is not None and says in fault


@pytest.mark.parametrize(
    ("addr", "key"),
    [
        (("192.0.2.7", 5000), "192.0.2.7"),
        (("::ffff:192.0.2.7", 5000, 0, 0), "192.0.2.7"),
        (("2001:db8:1:2:3:4:5:6", 5000, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::1", 5000, 0, 0), "2001:db8:1:2::/64"),
        ("/run/judge.sock", None),
    ],
)
def test_a_connection_counts_against_its_address_or_its_ipv6_64(addr: object, key: str | None) -> None:
    assert address_key(addr) == key


def test_past_its_bound_an_address_loses_its_longest_idle_connection_not_one_with_a_request() -> None:
    pairs = [socket.socketpair() for _ in range(4)]  # (server side, client side)
    try:
        gate = AddressGate(2)
        first, second, third, fourth = (server for server, _ in pairs)
        gate.waiting("a", first)
        gate.waiting("a", second)
        pairs[0][1].sendall(b"GET / HTTP/1.1\r\n")  # the oldest has its request waiting: kept
        gate.waiting("a", third)
        assert second.recv(1) == b""  # ended: its reader sees the end of the stream
        assert list(gate.idle["a"].values()) == [first, third]
        gate.busy("a", first)  # its request was read
        gate.waiting("b", fourth)  # another address counts apart
        assert list(gate.idle["a"].values()) == [third] and list(gate.idle["b"].values()) == [fourth]
        gate.busy("a", third)
        assert "a" not in gate.idle
        AddressGate(0).waiting("a", first)  # no bound: nothing kept, nothing ended
        AddressGate(5).waiting(None, first)  # a Unix socket: no address
    finally:
        for server, client in pairs:
            server.close()
            client.close()
