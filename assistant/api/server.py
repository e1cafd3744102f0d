"""`assistant serve`: the API on uvicorn, refusing to listen beyond loopback without a key."""

from __future__ import annotations

import ipaddress

from assistant.core.config import Settings
from assistant.core.errors import UsageError


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_bind(settings: Settings) -> None:
    """Refuse to serve documents to the network without a key, in one line saying why."""
    if not is_loopback(settings.api_host) and settings.api_key is None:
        raise UsageError(
            f"Refusing to listen on {settings.api_host} without an API key: anyone who can "
            "reach it could read your documents. Set ASSISTANT_API_KEY, or bind to 127.0.0.1."
        )


def serve(settings: Settings) -> None:
    """Run the API until interrupted."""
    import uvicorn

    from assistant.api.app import create_app

    check_bind(settings)
    uvicorn.run(
        create_app(settings), host=settings.api_host, port=settings.api_port,
        log_level="debug" if settings.debug else "info", server_header=False,
    )  # fmt: skip
