"""Outbound HTTP to partner-chosen URLs (webhooks) without server-side request forgery (OWASP API7).

A partner's webhook URL must not make Fidelis call its own network: loopback, private, link-local
(cloud metadata at 169.254.169.254), carrier-grade NAT, multicast or reserved addresses. The check
runs where the connection is made, on the address the socket actually connected to, so a DNS name
that resolves to a public address when saved and a private one when called (DNS rebinding) is
refused too. WEBHOOK_ALLOW_PRIVATE_TARGETS (on in DEBUG) lets development post to local receivers.
"""

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings


class PrivateTargetError(OSError):
    """The target address is not a public internet address."""


def _refuse_if_private(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise PrivateTargetError(f"refused: {ip} is not a public address")


def _public_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **kwargs):
    host, port = address[0], address[1]
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        _refuse_if_private(sockaddr[0])
    sock = socket.create_connection(address, timeout, source_address, **kwargs)
    try:
        _refuse_if_private(sock.getpeername()[0])  # what we really reached, after any re-resolution
    except PrivateTargetError:
        sock.close()
        raise
    return sock


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


def opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """An opener for partner URLs; public addresses only unless settings allow private ones."""
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return urllib.request.build_opener(*handlers)
    # No ProxyHandler: a proxy from the environment would be the address checked, not the target.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _PublicHTTPHandler, _PublicHTTPSHandler, *handlers
    )


def url_problem(url: str) -> str | None:
    """Why a webhook URL cannot be used, for the admin form; None when it can (as far as DNS says now)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http or https URL."
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return None
    try:
        for *_, sockaddr in socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM):
            _refuse_if_private(sockaddr[0])
    except PrivateTargetError:
        return "This URL points at a private or local address; webhooks go to public addresses only."
    except (socket.gaierror, UnicodeError, ValueError):
        return "This host name does not resolve."
    return None
