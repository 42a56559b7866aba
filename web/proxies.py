"""The client's address, and whether the request came over HTTPS, trusted from configured proxies only.

`X-Forwarded-For` and `X-Forwarded-Proto` are only true when a reverse proxy
of ours wrote them; anyone else can send them. So, with TRUSTED_PROXIES
(addresses or networks of the proxies in front of the app):

- a request whose peer (REMOTE_ADDR) is a trusted proxy: the client is the
  right-most address of X-Forwarded-For that is not itself a trusted proxy
  (each proxy appends the peer it saw; only the entries our proxies added can
  be believed), and REMOTE_ADDR becomes that client, so that everything that
  reads it (sign-in throttling, rate limits, logs) sees the person, not the
  proxy; X-Forwarded-Proto is kept for SECURE_PROXY_SSL_HEADER;
- any other request: the forwarding headers are removed before anything
  reads them.

Without TRUSTED_PROXIES (the default) every request is of the second kind:
REMOTE_ADDR is the client, and no forwarding header is believed.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger("followthrough.proxies")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_SSL",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
)


@lru_cache(maxsize=8)
def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def trusted_networks() -> tuple[Network, ...]:
    return parse_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def is_trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(meta: dict, networks: tuple[Network, ...] | None = None) -> str | None:
    """The client's address for a request's META (see the module's note)."""
    networks = trusted_networks() if networks is None else networks
    peer = _address(meta.get("REMOTE_ADDR", "") or "")
    if not networks or not is_trusted(peer, networks):
        return str(peer) if peer is not None else meta.get("REMOTE_ADDR")
    hops = [h for h in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Garbage where a proxy of ours would have written an address: believe
            # nothing further left, and count the request against the last proxy.
            break
        client = address
        if not is_trusted(address, networks):
            break
    return str(client)


class ForwardedHeadersMiddleware:
    """First in MIDDLEWARE: decides the client address and drops forwarding headers nobody trusted wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        networks = trusted_networks()
        peer = meta.get("REMOTE_ADDR", "")
        if networks and is_trusted(_address(peer or ""), networks):
            meta["PROXY_ADDR"] = peer
            meta["REMOTE_ADDR"] = client_address(meta, networks)
        else:
            dropped = [h for h in FORWARDING_HEADERS if meta.pop(h, None) is not None]
            if dropped and networks:
                # A proxy is configured, yet this request came around it.
                log.warning("forwarding headers from %s, which is not a trusted proxy, ignored: %s", peer, ", ".join(dropped))
        return self.get_response(request)
