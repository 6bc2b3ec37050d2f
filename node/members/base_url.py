"""Which base URL a join request may give, before the secretariat ever sees it.

In production a member's base URL is `https` on a public host: an IP literal must be a public
address, and a name must resolve to public addresses only (no loopback, private, link-local or
cloud-metadata address, see `outbound.is_public_address`), or the global node could be made to
call into its own network. The outbound client checks the address again at every connection,
because what a name resolves to can change after this check (DNS rebinding). In development,
http and any host are accepted: the demo federation runs on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpcore

from sdgcities.node.config import Environment, Settings
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.outbound import Resolver, is_public_address, resolve_host


def check_join_base_url(
    base_url: str, *, settings: Settings, resolve: Resolver = resolve_host
) -> None:
    if settings.environment is not Environment.PRODUCTION:
        return
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        raise InvalidRequest(f"a member's base URL must be https in production, not {base_url}")
    host = parts.hostname or ""
    if _is_ip_literal(host):
        if not is_public_address(host):
            raise InvalidRequest(f"{host} is not a public address: a member's base URL is public")
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise InvalidRequest(f"{host} is not a public host: a member's base URL is public")
    try:
        addresses = resolve(host, parts.port or 443)
    except httpcore.ConnectError as exc:
        raise InvalidRequest(f"the base URL's host {host} cannot be resolved") from exc
    private = [address for address in addresses if not is_public_address(address)]
    if private or not addresses:
        raise InvalidRequest(
            f"{host} resolves to {', '.join(private) or 'nothing'}: "
            "a member's base URL must resolve to public addresses only"
        )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
