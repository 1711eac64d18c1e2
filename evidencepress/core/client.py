"""The client's network address, the same everywhere it counts.

One rule for every per-address decision: the sign-in lockout (django-axes calls
`client_ip` through AXES_CLIENT_IP_CALLABLE), the audit log's source address, and the summary
request form's rate limit. Behind settings.TRUSTED_PROXIES proxies that each append the
address they saw to X-Forwarded-For, the client is the address the outermost of them saw;
hops further left were written by the client and are never believed.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _normalised(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address as a normalised string, or None when the request names none.

    With TRUSTED_PROXIES = 0, REMOTE_ADDR. With N > 0, the N-th X-Forwarded-For hop from the
    right; when the header has fewer hops than that (a request that bypassed the proxies, or
    a misconfiguration) or the hop is not an address, REMOTE_ADDR again.
    """
    proxies = int(getattr(settings, "TRUSTED_PROXIES", 0))
    if proxies > 0:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in header.split(",") if hop.strip()]
        if len(hops) >= proxies:
            forwarded = _normalised(hops[-proxies])
            if forwarded is not None:
                return forwarded
    return _normalised(str(request.META.get("REMOTE_ADDR", "")))
