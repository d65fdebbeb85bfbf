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
    host = parts.hostname.lower().rstrip(".")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost") or _is_private(host):
        raise UnsafeUrl("must not point at a loopback or private address")


def resolve_checked(url: str, *, allow_private: bool) -> str:
    """The one address a delivery connects to, checked at delivery time: a name that now resolves to an
    internal address is refused, and connecting to the checked address (not resolving again) means a DNS
    answer that changes between the check and the connection (rebinding) cannot reach one."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnsafeUrl(f"cannot resolve host: {exc.strerror}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeUrl("cannot resolve host")
    if not allow_private and any(_is_private(address) for address in addresses):
        raise UnsafeUrl("resolves to a loopback or private address")
    return addresses[0]


def pinned(url: str, address: str) -> tuple[str, str]:
    """The URL with its host replaced by the checked address, and the Host header it must carry."""
    parts = urlsplit(url)
    netloc_host = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    host_header = f"{parts.hostname}{port}"
    return parts._replace(netloc=f"{netloc_host}{port}").geturl(), host_header


def _is_private(host: str) -> bool:
    address = _as_address(host.strip("[]"))
    if address is None:
        return False
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address in any form a resolver accepts: dotted, shortened (127.1), one number (2130706433),
    hexadecimal (0x7f000001) or octal (0177.0.0.1) parts, all of which mean 127.0.0.1."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
