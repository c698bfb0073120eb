"""External resources a task reads at run time: a document, a proto, a script.

`http(s)://` is fetched (with the endpoint's authentication, if any); `file://` and plain
paths are read from the worker's disk, only inside the directories its operator allows
(`stigmer.permissions`: the path is checked once `..` and symbolic links are resolved,
and the resolved path is read). `file://app/x.proto`, as the spec's examples write it, is
the relative path `app/x.proto`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from stigmer.contract.problems import COMMUNICATION, CONFIGURATION
from stigmer.engine.outbound.remote import Request
from stigmer.engine.outbound.web import fetch
from stigmer.permissions import Permissions


def endpoint_uri(endpoint: Any) -> str:
    """The URI of an endpoint: a string or an object with `uri`."""
    if isinstance(endpoint, dict):
        return str(endpoint.get("uri", ""))
    return str(endpoint)


async def load_resource(
    resource: dict[str, Any], request: Request, permissions: Permissions, *, what: str
) -> tuple[bytes, str]:
    """The content and location of an external resource (`{endpoint: ...}`); `what` names
    the task for a refusal."""
    endpoint = resource.get("endpoint")
    uri = endpoint_uri(endpoint)
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        auth = endpoint.get("authentication") if isinstance(endpoint, dict) else None
        return await fetch(uri, auth, request), uri
    path = local_path(uri)
    if path is None:
        raise request.fault(CONFIGURATION, f"cannot load {uri!r}: use an http(s) or file URI")
    real = permissions.file(path, what=what)
    try:
        return await asyncio.to_thread(real.read_bytes), str(real)
    except OSError as exc:
        raise request.fault(COMMUNICATION, f"cannot read {path}: {exc.strerror or exc}") from None


def is_local(uri: str) -> bool:
    """Whether a resource at `uri` is read from the worker's disk."""
    return local_path(uri) is not None


def local_path(uri: str) -> Path | None:
    """The file a `file://` URI or a plain path names (None for another scheme)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        host = parts.netloc if parts.netloc not in ("", "localhost") else ""
        return Path(unquote(host + parts.path) if host else unquote(parts.path))
    if parts.scheme == "" or len(parts.scheme) == 1:  # no scheme, or a Windows drive
        return Path(uri)
    return None
