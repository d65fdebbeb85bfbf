"""Webhook URLs: https in production; never loopback, private or link-local addresses unless allowed."""

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    pass


def check(url: str, *, require_https: bool, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("must be an absolute http(s) URL")
    if require_https and parts.scheme != "https":
        raise UnsafeUrl("must use https")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials; use the shared secret")
    if allow_private:
        return
    if parts.hostname.lower() in ("localhost", "localhost.localdomain") or _is_private(parts.hostname):
        raise UnsafeUrl("must not point at a loopback or private address")


def check_resolved(url: str, *, allow_private: bool) -> None:
    """At delivery time, so a name that later resolves to an internal address is refused too."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise UnsafeUrl(f"cannot resolve host: {exc.strerror}") from exc
    if any(_is_private(str(info[4][0])) for info in infos):
        raise UnsafeUrl("resolves to a loopback or private address")


def _is_private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
        or address.is_multicast or address.is_unspecified
