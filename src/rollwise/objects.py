"""Object stores from URLs (obstore), and the two conditional writes the merge job relies on.

``s3://BUCKET[/PREFIX]``, ``file:///DIR``, ``memory://``; ``gs://`` and ``az://``
go through obstore's own URL parsing. S3 endpoints and credentials come from
the usual AWS variables (``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` for an
emulator).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import obstore as obs
from obstore.exceptions import AlreadyExistsError, NotFoundError, PreconditionError
from obstore.store import LocalStore, MemoryStore, S3Store

__all__ = ["AlreadyExistsError", "NOT_FOUND", "PreconditionError", "store_from_url", "put_if_absent", "put_if_match"]

# obstore raises the builtin FileNotFoundError for a missing object; its own class exists too.
NOT_FOUND = (NotFoundError, FileNotFoundError)


def store_from_url(url: str, env: Mapping[str, str] | None = None) -> Any:
    env = os.environ if env is None else env
    if url.startswith("s3://"):
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"{url!r} names no bucket")
        return s3_store(bucket, prefix.strip("/") or None, env)
    if url.startswith("file://"):
        path = Path(url[len("file://") :] or ".").resolve()
        path.mkdir(parents=True, exist_ok=True)
        return LocalStore(path)
    if url.startswith("memory://"):
        return MemoryStore()
    if url.startswith(("gs://", "az://", "abfs://", "https://")):
        from obstore.store import from_url

        return from_url(url)
    if "://" not in url:
        return store_from_url("file://" + str(Path(url).resolve()), env)
    raise ValueError(f"object store URL {url!r} is not supported: use s3://BUCKET[/PREFIX], file:///DIR or memory://")


def s3_store(bucket: str, prefix: str | None = None, env: Mapping[str, str] | None = None) -> S3Store:
    env = os.environ if env is None else env
    config: dict[str, Any] = {
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        # Native S3 conditional writes (If-None-Match / If-Match): off by default in object_store.
        "conditional_put": "etag",
    }
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        config.update(endpoint=endpoint, allow_http=endpoint.startswith("http://"), virtual_hosted_style_request=False)
    for key, var in (("access_key_id", "AWS_ACCESS_KEY_ID"), ("secret_access_key", "AWS_SECRET_ACCESS_KEY"), ("token", "AWS_SESSION_TOKEN")):
        if env.get(var):
            config[key] = env[var]
    return S3Store(bucket, prefix=prefix, **config)


def put_if_absent(store: Any, path: str, data: bytes) -> str:
    """Create ``path``; raise :class:`AlreadyExistsError` if it exists. Returns the new ETag."""
    return obs.put(store, path, data, mode="create", use_multipart=False)["e_tag"]


def put_if_match(store: Any, path: str, data: bytes, e_tag: str) -> str:
    """Replace ``path`` only if its ETag is still ``e_tag``; raise :class:`PreconditionError` otherwise."""
    if isinstance(store, LocalStore):
        return _local_put_if_match(store, path, data, e_tag)
    return obs.put(store, path, data, mode={"e_tag": e_tag}, use_multipart=False)["e_tag"]


def _local_put_if_match(store: LocalStore, path: str, data: bytes, e_tag: str) -> str:
    """obstore's local store has no conditional replace: an flock on a lock file
    gives the same guarantee between processes of one machine, and the kernel
    releases it if a process dies holding it."""
    import fcntl

    locks = Path(store.prefix) / ".rollwise-locks"
    locks.mkdir(exist_ok=True)
    with open(locks / (path.replace("/", "__") + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = obs.head(store, path)["e_tag"]
        except NOT_FOUND:
            raise PreconditionError(f"{path} no longer exists") from None
        if current != e_tag:
            raise PreconditionError(f"{path} changed: ETag {current} is not {e_tag}")
        return obs.put(store, path, data, mode="overwrite", use_multipart=False)["e_tag"]
