"""The visitor's address, as the gift card guess limits and /metrics' networks see it."""

from django.test import RequestFactory

from core.security import client_ip, limited_address


def test_without_a_proxy_header_it_is_the_peer(settings):
    settings.CLIENT_IP_HEADER = ""
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", headers={"X-Real-IP": "10.0.0.1"})
    assert client_ip(request) == "203.0.113.9"  # a header nobody configured is the client's word


def test_behind_a_proxy_the_entry_it_added_not_what_the_client_sent(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}
    )
    assert client_ip(request) == "203.0.113.7"
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"  # header missing


def test_a_limit_counts_an_ipv6_visitor_by_its_slash_64():
    one_visitor = {limited_address("2001:db8:1:2:aaaa::1"), limited_address("2001:db8:1:2:bbbb::9")}
    assert one_visitor == {"2001:db8:1:2::"}
    assert limited_address("2001:db8:1:3::1") == "2001:db8:1:3::"
    assert limited_address("203.0.113.9") == "203.0.113.9"
    assert limited_address("not-an-address") == "not-an-address"
