"""The trust boundary against a real server: Host allow-list, Origin, trusted proxies."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from bulkgen.http.trust import allowed_host_names, host_name, origin_of
from bulkgen.settings import Settings

from helpers.api import BATCHES, batch_body, create_batch
from helpers.server import LiveServer
from helpers.sse import read_stream


def test_a_dns_rebinding_host_is_refused_for_create_and_read(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server()
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = create_batch(http, count=2)
        rebound = {"Host": f"rebind.attacker.example:{live.port}"}
        created = http.post(BATCHES, json=batch_body(), headers=rebound)
        assert created.status_code == 400
        assert "allowed_hosts" in created.json()["detail"]
        assert http.get(BATCHES, headers=rebound).status_code == 400
        assert http.get(f"{BATCHES}/{batch['id']}", headers=rebound).status_code == 400
        assert http.get("/faculty/generate/batch", headers=rebound).status_code == 400
        assert read_stream(live.url, batch["id"], headers=rebound).status == 400
        assert http.get(BATCHES).json()["total"] == 1  # the refused create made nothing
        for local in (f"localhost:{live.port}", f"127.0.0.1:{live.port}", "[::1]"):
            assert http.get(BATCHES, headers={"Host": local}).status_code == 200, local


def test_allowed_hosts_names_the_servers_names(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(allowed_hosts=["bulkgen.example.edu", "127.0.0.1"])
    with httpx.Client(base_url=live.url, timeout=60) as http:
        named = http.get(BATCHES, headers={"Host": "BulkGen.example.edu:443"})
        assert named.status_code == 200
        # Listed names replace the defaults.
        assert http.get(BATCHES, headers={"Host": "localhost"}).status_code == 400


def test_a_scheme_or_port_mismatched_origin_is_refused(client: httpx.Client) -> None:
    host = client.base_url.netloc.decode()
    port = client.base_url.port
    for origin in (f"https://{host}", f"http://127.0.0.1:{port + 1}", "null", "http://"):
        refused = client.post(BATCHES, json=batch_body(), headers={"Origin": origin})
        assert refused.status_code == 403, origin
        assert refused.json() == {"detail": "cross-site request refused"}
    same = client.post(BATCHES, json=batch_body(), headers={"Origin": f"http://{host}"})
    assert same.status_code == 201


def test_a_trusted_proxy_names_the_scheme_for_the_origin_check(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(
        trusted_proxies=["127.0.0.0/8"], allowed_hosts=["bulkgen.example.edu", "127.0.0.1"]
    )
    tls = {"Host": "bulkgen.example.edu", "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=live.url, timeout=60) as http:
        same = {**tls, "Origin": "https://bulkgen.example.edu"}
        assert http.post(BATCHES, json=batch_body(), headers=same).status_code == 201
        plain = {**tls, "Origin": "http://bulkgen.example.edu"}
        assert http.post(BATCHES, json=batch_body(), headers=plain).status_code == 403


def test_x_forwarded_proto_from_an_untrusted_peer_is_ignored(client: httpx.Client) -> None:
    host = client.base_url.netloc.decode()
    headers = {"X-Forwarded-Proto": "https", "Origin": f"https://{host}"}
    assert client.post(BATCHES, json=batch_body(), headers=headers).status_code == 403


def test_the_identity_header_from_an_untrusted_address_is_not_believed(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(user_header="X-User", trusted_proxies=["10.0.0.0/8"])
    with httpx.Client(base_url=live.url, timeout=60) as http:
        claimed = http.post(BATCHES, json=batch_body(), headers={"X-User": "ada"})
        assert claimed.status_code == 401
        assert "trusted proxy" in claimed.json()["detail"]
        assert http.get(BATCHES, headers={"X-User": "ada"}).status_code == 401


def test_a_duplicated_identity_header_is_refused(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(user_header="X-User")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        twice = httpx.Headers([("X-User", "ada"), ("X-User", "bob")])
        refused = http.post(BATCHES, json=batch_body(), headers=twice)
        assert refused.status_code == 400
        assert refused.json() == {"detail": "the X-User header is sent more than once"}
        assert http.get(BATCHES, headers=twice).status_code == 400
        assert http.get(BATCHES, headers={"X-User": "ada"}).json()["total"] == 0


def test_user_header_without_trusted_proxies_fails_at_start() -> None:
    with pytest.raises(ValidationError, match="user_header needs trusted_proxies"):
        Settings(user_header="X-User")
    with pytest.raises(ValidationError, match="not an IP address or CIDR block"):
        Settings(user_header="X-User", trusted_proxies=["proxy.example"])


def test_host_names_and_origins_parse_scheme_host_and_port() -> None:
    assert host_name("Example.EDU:8000") == "example.edu"
    assert host_name("[::1]:8000") == "[::1]"
    assert origin_of("https://example.edu") == ("https", "example.edu", 443)
    assert origin_of("http://[::1]:8000") == ("http", "[::1]", 8000)
    assert origin_of("null") is None
    assert origin_of("ftp://example.edu") is None
    assert allowed_host_names(None, "10.1.2.3") == {"localhost", "127.0.0.1", "[::1]", "10.1.2.3"}
    assert allowed_host_names(None, "0.0.0.0") == {"localhost", "127.0.0.1", "[::1]"}
    assert allowed_host_names(["*"], "127.0.0.1") is None
