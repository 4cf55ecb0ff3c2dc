"""Object stores (S3, a local folder, memory): the only module that imports obstore.

Two levels, after obstore's own shape. A store object (:class:`ObjectStore`)
makes single requests and turns obstore's errors into rollwise's typed ones.
Plain functions over a store object hold the policy: create only if absent,
replace only if unchanged, read what may be missing (S3 answers 403, not 404,
for a missing key when listing is not granted), keep a version where absent,
delete many with one outcome per key. Everything else reads and writes objects through these
functions, so a test that wraps the store object sees every request.

URLs: ``s3://BUCKET[/PREFIX]``, ``file:///DIR`` (or a plain path), ``memory://``.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import obstore as obs
from obstore import exceptions as obs_errors
from obstore.store import LocalStore, MemoryStore, S3Store

from rollwise.config import AwsSettings
from rollwise.errors import StoreError
from rollwise.s3_requests import ConditionalRequests, S3Error

LIST_PAGE = 1000
DELETE_CHUNK = 1000  # S3's DeleteObjects limit
log = logging.getLogger(__name__)
CLAIMS = ".rollwise-claims"  # a folder's conditional deletes in flight, under its root
CLAIM_AGE_S = 60.0  # a claim older than this was left by a crash: a delete takes microseconds
# What each request needs in IAM terms, for a denied request's message.
ACTIONS = {
    "get": "s3:GetObject",
    "head": "s3:GetObject",
    "put": "s3:PutObject",
    "copy": "s3:GetObject on the source and s3:PutObject",
    "delete": "s3:DeleteObject",
    "list": "s3:ListBucket",
}


# -- errors ---------------------------------------------------------------------------
class ObjectError(StoreError):
    """A request on an object store failed; ``key`` and ``operation`` say which."""

    def __init__(self, message: str, key: str | None = None, operation: str | None = None) -> None:
        super().__init__(message)
        self.key, self.operation = key, operation


class NotFound(ObjectError):
    """No object at that key."""


class AlreadyExists(ObjectError):
    """A create-if-absent found an object already there."""


class PreconditionFailed(ObjectError):
    """A request conditioned on an ETag found the object changed (for a replace: or gone)."""


class PermissionDenied(ObjectError):
    """The credentials may not make this request; the message names the IAM action."""


class BucketNotFound(ObjectError):
    """The bucket (or folder) itself does not exist."""


class RequestFailed(ObjectError):
    """Anything else: the network, a cut answer, a server error. Retrying later may work."""


# -- what requests return --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ObjectMeta:
    key: str
    e_tag: str
    size: int
    last_modified: datetime


class Blob:
    """An object's bytes and ETag. The ETag of a GET is taken from its answer only when asked:
    building obstore's metadata costs about 7% of a small GET's CPU, and a raw file's ETag
    is already known from the listing."""

    __slots__ = ("key", "data", "_e_tag", "_answer")

    def __init__(self, key: str, data: bytes, e_tag: str | None = None, answer: Any = None) -> None:
        self.key, self.data, self._e_tag, self._answer = key, data, e_tag, answer

    @property
    def e_tag(self) -> str:
        if self._e_tag is None:
            self._e_tag = (self._answer.meta.get("e_tag") if self._answer is not None else None) or ""
        return self._e_tag

    @property
    def attributes(self) -> dict[str, str]:
        """What S3 keeps beside the bytes: the content type and the like, and the user metadata (``x-amz-meta-*``)."""
        return dict(self._answer.attributes) if self._answer is not None else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blob) and (self.key, self.data, self.e_tag) == (other.key, other.data, other.e_tag)

    def __repr__(self) -> str:
        return f"Blob({self.key!r}, {len(self.data)} bytes, e_tag={self.e_tag!r})"


@dataclass
class BulkOutcome:
    """One outcome per key of a delete-many: done, already gone, or failed with its error."""

    done: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # conditioned on an ETag the object no longer has: left alone
    failed: dict[str, ObjectError] = field(default_factory=dict)


# -- the store object -------------------------------------------------------------------
class ObjectStore:
    """One bucket or folder, and the single requests rollwise makes of it.

    ``ordered``: listings come sorted by key (object stores do, a local folder
    does not). ``native_replace``: the store has a conditional replace
    (If-Match); a local folder gets one from :meth:`lock`.

    Reads, copies and deletes may be conditioned on an ETag (``if_match``). S3
    does it natively (GET through obstore, COPY and DELETE through
    ``conditional``); a local folder by taking the file first and checking what
    it took (a hard link for a copy, a rename out of the way for a delete: a
    producer's new version is a new file); memory under one lock that every
    write through this object takes.
    """

    def __init__(
        self, native: Any, url: str, ordered: bool, native_replace: bool, root: Path | None = None, conditional: ConditionalRequests | None = None
    ) -> None:
        self.native, self.url, self.ordered, self.native_replace, self.root = native, url, ordered, native_replace, root
        self.conditional = conditional
        self._guard: Any = threading.RLock() if root is None and conditional is None else nullcontext()

    def __repr__(self) -> str:
        return f"ObjectStore({self.url!r})"

    @property
    def folder(self) -> Path:
        """The local folder of a ``file://`` store; what only a folder does asks for it."""
        if self.root is None:
            raise TypeError(f"{self.url} is not a local folder")
        return self.root

    def _fail(self, exc: BaseException, operation: str, key: str | None) -> ObjectError:
        return translate(exc, operation, key, self.url)

    def get(self, key: str, if_match: str | None = None) -> Blob:
        try:
            got = obs.get(self.native, key, options={"if_match": if_match} if if_match else None)
            data = bytes(got.bytes())
        except Exception as exc:  # noqa: BLE001 - translated
            raise self._fail(exc, "get", key) from None
        return Blob(key, data, answer=got)

    def head(self, key: str) -> ObjectMeta:
        try:
            return _meta(obs.head(self.native, key))
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "head", key) from None

    def put(self, key: str, data: bytes | Path, mode: str | tuple[str, str] = "overwrite", attributes: Mapping[str, str] | None = None) -> str:
        """``mode``: ``"overwrite"``, ``"create"`` (if absent) or ``("if-match", e_tag)``. Returns the new ETag.
        ``attributes`` (content type, user metadata) are kept where the store keeps them (not in a local folder)."""
        obs_mode: Any = {"e_tag": mode[1]} if isinstance(mode, tuple) else mode
        kept: Any = {"attributes": attributes} if attributes and self.root is None else {}
        try:
            with self._guard:
                if isinstance(data, Path):
                    return obs.put(self.native, key, data)["e_tag"] or ""
                return obs.put(self.native, key, data, mode=obs_mode, use_multipart=False, **kept)["e_tag"] or ""
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "put", key) from None

    def copy(self, source: str, target: str, if_match: str | None = None) -> None:
        """Copy ``source`` to ``target``; with ``if_match``, only while the source's ETag is that (else PreconditionFailed)."""
        try:
            if if_match is None:
                obs.copy(self.native, source, target, overwrite=True)
            elif self.conditional is not None:
                self.conditional.copy(source, target, if_match)
            elif self.root is not None:
                self._copy_file_if_match(source, target, if_match)
            else:
                with self._guard:
                    self._check(obs.head(self.native, source), if_match, source)
                    obs.copy(self.native, source, target, overwrite=True)
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "copy", source) from None

    def delete(self, keys: Sequence[str], if_match: Sequence[str] | None = None) -> dict[str, ObjectError]:
        """Delete many in one request where the store has one (S3's DeleteObjects).

        Unconditional: raises if any failed. With ``if_match`` (an ETag per key), each
        key that was not deleted is returned with why: :class:`PreconditionFailed` if it
        changed, :class:`NotFound` if it is gone; a failure of the whole request raises."""
        try:
            if if_match is None:
                obs.delete(self.native, list(keys))
                return {}
            if self.conditional is not None and len(keys) > 1:
                return {
                    k: translate(S3Error(0, e.get("Code", ""), e.get("Message", "")), "delete", k, self.url)
                    for k, e in self.conditional.delete_many(keys, if_match).items()
                }
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "delete", keys[0] if len(keys) == 1 else None) from None
        failed: dict[str, ObjectError] = {}
        for key, e_tag in zip(keys, if_match, strict=True):
            try:
                if self.conditional is not None:
                    self.conditional.delete_one(key, e_tag)
                elif self.root is not None:
                    self._delete_file_if_match(key, e_tag)
                else:
                    with self._guard:
                        self._check(obs.head(self.native, key), e_tag, key)
                        obs.delete(self.native, key)
            except Exception as exc:  # noqa: BLE001
                error = self._fail(exc, "delete", key)
                if len(keys) == 1 and not isinstance(error, (NotFound, PreconditionFailed)) or isinstance(error, BucketNotFound):
                    raise error from None
                failed[key] = error
        return failed

    # -- conditions where the store has none: a local folder, memory ---------------------------
    @staticmethod
    def _check(meta: Any, e_tag: str, key: str) -> None:
        if (meta.get("e_tag") or "") != e_tag:
            raise PreconditionFailed(f"{key} changed: ETag {meta.get('e_tag')} is not {e_tag}", key)

    @staticmethod
    def _file_e_tag(stat: os.stat_result) -> str:
        """A local file's ETag as obstore's LocalStore makes it: inode, modification time (µs) and size."""
        return f'"{stat.st_ino:x}-{stat.st_mtime_ns // 1000:x}-{stat.st_size:x}"'

    def _copy_file_if_match(self, source: str, target: str, e_tag: str) -> None:
        """A hard link (as obstore copies in a folder) taken first, then checked: what it holds is the
        version checked, whatever a producer writes meanwhile."""
        path = self.folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        os.link(self.folder / source, staged)  # FileNotFoundError: gone
        if self._file_e_tag(os.stat(staged)) != e_tag:
            os.unlink(staged)
            raise PreconditionFailed(f"{source} changed since it was listed", source)
        os.replace(staged, path)
        if staged.exists():  # the target was this very file already: rename(2) then does nothing
            os.unlink(staged)

    def _delete_file_if_match(self, key: str, e_tag: str) -> None:
        """Rename the file out of raw/ (atomic), then check what was taken: the version listed is
        deleted; another is linked back (unless a newer one is there already, which S3 would keep too).
        The claim's folder names the ETag expected, so a claim a crash leaves is settled by
        :meth:`settle_claims` the same way."""
        expected = e_tag.strip('"')
        folder = self.folder / CLAIMS / f"{expected}.{uuid.uuid4().hex}"
        claim = folder / key
        claim.parent.mkdir(parents=True)
        try:
            os.rename(self.folder / key, claim)  # FileNotFoundError: gone
            self._settle(key, claim, e_tag)
        except (FileNotFoundError, PreconditionFailed):
            shutil.rmtree(folder, ignore_errors=True)
            raise
        shutil.rmtree(folder, ignore_errors=True)  # anything else leaves the claim to settle_claims

    def _settle(self, key: str, claim: Path, e_tag: str) -> None:
        if self._file_e_tag(os.stat(claim)) == e_tag:
            return
        (self.folder / key).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.link(claim, self.folder / key)  # same inode and time: the version keeps its ETag
        raise PreconditionFailed(f"{key} changed since it was listed", key)

    def settle_claims(self, older_than_s: float | None = None) -> int:
        """Finish the conditional deletes a crash interrupted in a folder: a claimed file that is the
        version the delete named is deleted, any other goes back to its key. Only claims older than
        ``older_than_s`` (:data:`CLAIM_AGE_S`), so a delete in flight in another process is left to finish.
        Returns how many."""
        if self.root is None or not (self.root / CLAIMS).is_dir():
            return 0
        age = CLAIM_AGE_S if older_than_s is None else older_than_s
        settled, now = 0, time.time()
        for folder in (self.root / CLAIMS).iterdir():
            expected, _, _ = folder.name.rpartition(".")
            try:
                if now - folder.stat().st_mtime < age:
                    continue
                for claim in [p for p in folder.rglob("*") if p.is_file()]:
                    key = claim.relative_to(folder).as_posix()
                    try:
                        self._settle(key, claim, f'"{expected}"')
                    except PreconditionFailed:
                        log.warning("a delete interrupted by a crash put back %s: it changed since it was listed", key)
                    settled += 1
            except FileNotFoundError:  # settled meanwhile by another process
                continue
            except OSError as exc:  # never blocks the run: the claim stays for the next one
                log.warning("could not settle the claim %s: %s", folder, exc)
                continue
            shutil.rmtree(folder, ignore_errors=True)
        return settled

    def list(self, prefix: str, offset: str | None = None) -> Iterator[list[ObjectMeta]]:
        """Pages of objects under ``prefix`` (a folder: ``runs/raw/``), after ``offset`` when given."""
        folder = prefix.rstrip("/") or None
        try:
            stream = obs.list(self.native, folder, offset=offset, chunk_size=LIST_PAGE)
            for page in stream:
                yield [_meta(m) for m in page]
        except Exception as exc:  # noqa: BLE001
            error = self._fail(exc, "list", prefix)
            if isinstance(error, NotFound) and self.root is not None:
                return  # a local folder that does not exist yet: nothing under it
            raise error from None

    def list_children(self, prefix: str) -> builtins.list[ObjectMeta]:  # builtins': `list` here is the method above
        """Objects directly under ``prefix``, not in sub-folders."""
        try:
            listing = obs.list_with_delimiter(self.native, prefix.rstrip("/") or None)
        except Exception as exc:  # noqa: BLE001
            error = self._fail(exc, "list", prefix)
            if isinstance(error, NotFound) and self.root is not None:
                return []
            raise error from None
        return [_meta(m) for m in listing["objects"]]

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Exclusive between processes of this machine, freed by the kernel if one dies (local folders only)."""
        if self.root is None:  # S3 and memory stores replace with a native If-Match: replace() never asks them
            raise RuntimeError(f"{self.url} is not a local folder: it has its own conditional writes, not a lock")
        locks = self.root / ".rollwise-locks"
        locks.mkdir(exist_ok=True)
        with open(locks / (key.replace("/", "__") + ".lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _meta(m: Any) -> ObjectMeta:
    return ObjectMeta(m["path"], m.get("e_tag") or "", m["size"], m["last_modified"])


_S3_CODES = {
    "NoSuchKey": "not found",
    "404": "not found",
    "PreconditionFailed": "precondition",
    "412": "precondition",
    "AccessDenied": "denied",
    "403": "denied",
    "NoSuchBucket": "no bucket",
}


def translate(exc: BaseException, operation: str, key: str | None, url: str) -> ObjectError:
    """obstore's (or S3's, from :mod:`rollwise.s3_requests`) error as rollwise's: typed, one line, no transport dump."""
    if isinstance(exc, ObjectError):
        return exc
    where = f"{url.rstrip('/')}/{key}" if key else url
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):  # S3's answer, in boto3's ClientError shape
        code = str(response["Error"].get("Code", ""))
        kind = _S3_CODES.get(code) or _S3_CODES.get(str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")))
        if kind == "no bucket":
            return BucketNotFound(f"bucket of {url} does not exist: create it, or check --bucket (or the bucket setting)", key, operation)
        if kind == "not found":
            return NotFound(f"{where} not found", key, operation)
        if kind == "precondition":
            return PreconditionFailed(f"{where} changed since it was listed", key, operation)
        if kind == "denied":
            return PermissionDenied(f"{operation} {where} was denied: the credentials need {ACTIONS.get(operation, operation)} there", key, operation)
        return RequestFailed(f"{operation} {where} failed: {code} {response['Error'].get('Message', '')}"[:400], key, operation)
    text = str(exc)
    first = text.split("\n\nDebug source:")[0].strip().splitlines()[0] if text.strip() else type(exc).__name__
    if "NoSuchBucket" in text:
        return BucketNotFound(f"bucket of {url} does not exist: create it, or check --bucket (or the bucket setting)", key, operation)
    if isinstance(exc, (FileNotFoundError, obs_errors.NotFoundError)):
        return NotFound(f"{where} not found", key, operation)
    if isinstance(exc, obs_errors.AlreadyExistsError):
        return AlreadyExists(f"{where} already exists", key, operation)
    if isinstance(exc, obs_errors.PreconditionError):
        return PreconditionFailed(f"{where} changed since it was read", key, operation)
    # obstore reports a listing's 403 as a generic error: the status in its text says what it was.
    denied = "403 Forbidden" in text or "<Code>AccessDenied</Code>" in text
    if isinstance(exc, (obs_errors.PermissionDeniedError, obs_errors.UnauthenticatedError)) or denied:
        return PermissionDenied(f"{operation} {where} was denied: the credentials need {ACTIONS.get(operation, operation)} there", key, operation)
    return RequestFailed(f"{operation} {where} failed: {first[:300]}", key, operation)


# -- opening a store --------------------------------------------------------------------
def open_store(url: str, aws: AwsSettings | None = None, create: bool = False) -> ObjectStore:
    """The store a URL names. A local folder is made only when ``create`` (read-only commands never make one)."""
    aws = aws or AwsSettings()
    if url.startswith("s3://"):
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"{url!r} names no bucket")
        config: dict[str, Any] = {"region": aws.region, "conditional_put": "etag"}  # native If-Match / If-None-Match
        if aws.endpoint_url:
            config.update(endpoint=aws.endpoint_url, allow_http=aws.endpoint_url.startswith("http://"), virtual_hosted_style_request=False)
        return ObjectStore(
            S3Store(bucket, prefix=prefix.strip("/") or None, **config),
            url,
            ordered=True,
            native_replace=True,
            conditional=ConditionalRequests(bucket, prefix.strip("/") or None, aws),
        )
    if url.startswith("memory://"):
        return ObjectStore(MemoryStore(), url, ordered=True, native_replace=True)
    if url.startswith("file://") or "://" not in url:
        path = Path(url[len("file://") :] if url.startswith("file://") else url).resolve()
        if create:
            path.mkdir(parents=True, exist_ok=True)
        elif not path.is_dir():
            raise BucketNotFound(f"folder {path} does not exist (nothing has been merged there yet?)")
        return ObjectStore(LocalStore(path), f"file://{path}", ordered=False, native_replace=False, root=path)
    raise ValueError(f"object store URL {url!r} is not supported: use s3://BUCKET[/PREFIX], file:///DIR or memory://")


# -- plain functions: the policy ----------------------------------------------------------
def list_objects(store: ObjectStore, prefix: str, offset: str | None = None) -> Iterator[ObjectMeta]:
    for page in store.list(prefix, offset):
        yield from page


def list_children(store: ObjectStore, prefix: str) -> list[ObjectMeta]:
    return store.list_children(prefix)


def read(store: ObjectStore, key: str, e_tag: str | None = None) -> Blob:
    """The object; with ``e_tag``, only that version (:class:`PreconditionFailed` if it changed)."""
    return store.get(key, e_tag)


def exists(store: ObjectStore, key: str) -> ObjectMeta | None:
    """Whether ``key`` exists, by listing its folder from just before it (needs only s3:ListBucket there)."""
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    before = key[:-1] + chr(ord(key[-1]) - 1) if key else None
    for meta in list_objects(store, folder, before):
        if meta.key >= key:
            return meta if meta.key == key else None
    return None


def read_if_exists(store: ObjectStore, key: str, e_tag: str | None = None) -> Blob | None:
    """The object, or None if there is none; with ``e_tag``, only that version (:class:`PreconditionFailed`
    if it changed). S3 answers a GET of a missing key with 403 when the caller may not list it: a denied
    read is checked by listing, so a missing object is None and a real denial is :class:`PermissionDenied`."""
    try:
        return store.get(key, e_tag)
    except NotFound:
        return None
    except PermissionDenied as denied:
        try:
            present = exists(store, key)
        except PermissionDenied:
            raise PermissionDenied(
                f"{denied}; and listing to tell whether it exists was denied too: the credentials need s3:ListBucket on its folder", key, "get"
            ) from None
        if present is None:
            return None
        raise


def create(store: ObjectStore, key: str, data: bytes) -> str:
    """Write ``key`` only if absent (If-None-Match); :class:`AlreadyExists` otherwise. Returns the ETag."""
    return store.put(key, data, "create")


def keep(store: ObjectStore, key: str, data: bytes, attributes: Mapping[str, str] | None = None) -> bool:
    """Write ``key`` only if absent. True when it holds these very bytes now (written, or there already: a
    retry, or another run keeping the same version); False when it holds other bytes, which stay."""
    try:
        store.put(key, data, "create", attributes)
        return True
    except AlreadyExists:
        there = read_if_exists(store, key)
    if there is None:  # deleted since it was refused: write it again
        return keep(store, key, data, attributes)
    return there.data == data


def replace(store: ObjectStore, key: str, data: bytes, e_tag: str) -> str:
    """Replace ``key`` only if its ETag is still ``e_tag`` (If-Match); :class:`PreconditionFailed` otherwise."""
    if store.native_replace:
        return store.put(key, data, ("if-match", e_tag))
    with store.lock(key):
        try:
            current = store.head(key).e_tag
        except NotFound:
            raise PreconditionFailed(f"{key} no longer exists", key, "put") from None
        if current != e_tag:
            raise PreconditionFailed(f"{key} changed: ETag {current} is not {e_tag}", key, "put")
        return store.put(key, data, "overwrite")


def write(store: ObjectStore, key: str, data: bytes | Path) -> str:
    """Write ``key`` whatever is there (a file path goes up in parts when large)."""
    return store.put(key, data, "overwrite")


def copy(store: ObjectStore, source: str, target: str, e_tag: str | None = None) -> None:
    """Copy ``source`` to ``target`` (with ``e_tag``: only that version, else :class:`PreconditionFailed`);
    :class:`NotFound` if the source is gone (S3's 403 for it included)."""
    try:
        store.copy(source, target, e_tag)
    except PermissionDenied:
        if exists(store, source) is None:
            raise NotFound(f"{source} not found", source, "copy") from None
        raise


def delete_many(store: ObjectStore, keys: Sequence[str], e_tags: Mapping[str, str] | None = None) -> BulkOutcome:
    """Delete ``keys`` in bulk requests, each conditioned on its ETag in ``e_tags`` when given; if a
    bulk request fails, key by key, so each key gets its own outcome."""
    outcome = BulkOutcome()
    for i in range(0, len(keys), DELETE_CHUNK):
        chunk = list(keys[i : i + DELETE_CHUNK])
        tags = [e_tags[k] for k in chunk] if e_tags is not None else None
        try:
            refused = store.delete(chunk, tags)
        except ObjectError:
            for n, key in enumerate(chunk):
                one = [tags[n]] if tags is not None else None
                _record(outcome, key, _attempt(_delete_one, store, key, one))
            continue
        for key in chunk:
            _record(outcome, key, refused.get(key))
    return outcome


def _delete_one(store: ObjectStore, key: str, if_match: list[str] | None) -> ObjectError | None:
    return store.delete([key], if_match).get(key)


def _attempt(call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    except ObjectError as exc:
        return exc


def _record(outcome: BulkOutcome, key: str, result: Any) -> None:
    if isinstance(result, NotFound) and not isinstance(result, BucketNotFound):
        outcome.gone.append(key)
    elif isinstance(result, PreconditionFailed):
        outcome.changed.append(key)
    elif isinstance(result, BaseException):
        outcome.failed[key] = result if isinstance(result, ObjectError) else RequestFailed(str(result), key)
    else:
        outcome.done.append(key)
