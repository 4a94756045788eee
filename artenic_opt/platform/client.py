# Over 600 lines: one client class, a method per gateway endpoint, one retry policy.
"""HTTP client for the Artenic platform gateway (contract ``platform-api.md``, version 0.7.0).

One ``httpx.Client`` per ``PlatformClient``. Decisions:

* **Auth**: ``Authorization: Bearer <key>`` only when a key is set, added by a private
  ``httpx.Auth`` so the key is not among the client's default headers. The key never appears in
  an exception, log record or repr; it is validated up front (an illegal header character would
  otherwise surface in an h11 error message that quotes the header value).
* **Request ids**: every call sends ``X-Request-ID`` (32 hex characters, like the platform's own);
  a retry of the same call reuses it with a ``-r<n>`` suffix so server logs group the attempts.
  Error messages carry the id the server echoed (``error.request_id``), else the one we sent.
* **Retries** (contract §1.7, §1.8, §9): connection errors, timeouts and a connection dropped
  mid-body, 429 (waiting ``Retry-After`` seconds, capped at ``max_backoff``), and 502/503/504, with
  exponential backoff ``backoff * 2**attempt`` capped at ``max_backoff``, for at most
  ``max_retries`` retries. No jitter: one CLI process is no thundering herd, and fixed waits are
  testable. A 500 is never retried (on several paths it means "not found" or "rejected").
  ``POST /training/dispatch`` is retried only when the request surely did not reach the route
  (connection refused, 429): retrying after a timeout or 5xx could submit the job twice.
* **Errors**: connection failure or timeout -> ``PlatformUnreachableError``; 401 ->
  ``PlatformAuthError``; any other error status -> ``PlatformResponseError`` with the status and
  request id, using ``error.message`` from the body; on the paths where the platform answers 500
  for a missing id or a rejected input, the message says "not found or rejected". A body that is
  not JSON, or JSON of the wrong shape, is a ``PlatformResponseError`` too.
* **Timeouts**: ``timeout`` for everything except the catalog, whose first call fetches seven
  upstream price APIs and gets ``catalog_timeout`` (§1.10).
* **Paging** (§1.5): offset/limit with limit 500 until a short page. Items are de-duplicated by id
  (a job created while paging shifts the newest-first list by one and repeats an item); a full
  page that brings nothing new means the server ignores ``offset`` and is an error, not a loop.
* The provider list is called with its trailing slash (§1.9) and redirects are followed anyway.
* **Bounded responses**: a body is streamed and refused past ``MAX_RESPONSE_BYTES`` (after
  content decoding, so a compressed bomb is caught too), and a whole exchange must end within
  ``RESPONSE_DEADLINE_FACTOR`` times its timeout (the timeout alone bounds each read, so a server
  that trickles bytes or never ends its body would otherwise hold the process, and its memory,
  for ever). Too large is a ``PlatformResponseError``; too slow counts as a timeout (retried
  like one).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from artenic_opt._version import __version__
from artenic_opt.errors import (
    ConfigError,
    InvalidInputError,
    PlatformAuthError,
    PlatformResponseError,
    PlatformUnreachableError,
)
from artenic_opt.platform.models import (
    Budget,
    BudgetSpending,
    CatalogComputeFlavor,
    CatalogStorageTier,
    DatasetFile,
    DatasetStats,
    HealthStatus,
    PlatformDataset,
    PlatformJob,
    ProviderSummary,
)
from artenic_opt.schemas import format_validation_error

logger = logging.getLogger("artenic_opt.platform")

USER_AGENT = f"artenic-opt/{__version__}"
PAGE_LIMIT = 500
#: Largest response body accepted (64 MiB): a page of 500 jobs or the whole catalog is well under
#: 1 MiB (the recorded gateway responses in the platform captures are at most 84 kB).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: A whole exchange (headers and body) must end within this many times its timeout.
RESPONSE_DEADLINE_FACTOR = 3.0
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

#: Paths on which the platform answers 500 for an unknown id or a rejected input (§1.7).
_NOT_FOUND_OR_REJECTED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GET", re.compile(r"^/api/v1/training/(?!jobs$)[^/]+$")),
    ("POST", re.compile(r"^/api/v1/training/[^/]+/cancel$")),
    ("POST", re.compile(r"^/api/v1/training/dispatch$")),
    ("POST", re.compile(r"^/api/v1/budgets$")),
    ("PUT", re.compile(r"^/api/v1/budgets/[^/]+$")),
    ("POST", re.compile(r"^/api/v1/datasets$")),
    ("GET", re.compile(r"^/api/v1/providers/[^/]+/catalog(/compute|/storage)?$")),
)

# Printable ASCII without spaces: what can travel in an HTTP header unquoted.
_KEY_CHARS = re.compile(r"^[\x21-\x7e]+$")

M = TypeVar("M", bound=BaseModel)


class _BearerAuth(httpx.Auth):
    """Adds the Bearer header per request; its repr never shows the key."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(key=**********)"


def _new_request_id() -> str:
    return uuid.uuid4().hex


class PlatformClient:
    """Typed access to the platform endpoints the optimizer uses. Close it, or use ``with``."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        *,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        catalog_timeout: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = url.strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError("platform url: must start with http:// or https://")
        if not timeout > 0 or not catalog_timeout > 0:
            raise ConfigError("platform timeout: must be greater than 0 seconds")
        if max_retries < 0 or backoff < 0 or max_backoff < 0:
            raise ConfigError("platform retries: max_retries, backoff and max_backoff must be >= 0")
        key = api_key.strip() if api_key else ""
        if key and not _KEY_CHARS.match(key):
            # Never echo the key: say what is wrong with it, not what it is.
            raise ConfigError(
                "platform api key: contains spaces or characters not allowed in an HTTP header"
            )
        # Credentials embedded in the URL (http://user:secret@host) never reach messages.
        self.url = _without_userinfo(base)
        self.timeout = float(timeout)
        self.catalog_timeout = float(catalog_timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._has_key = bool(key)
        self._http = httpx.Client(
            base_url=base,
            auth=_BearerAuth(SecretStr(key)) if key else None,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
        )

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        auth = "bearer" if self._has_key else "none"
        return f"PlatformClient(url={self.url!r}, auth={auth}, timeout={self.timeout:g})"

    @property
    def has_api_key(self) -> bool:
        return self._has_key

    # ----------------------------------------------------------------------------------------
    # Endpoints
    # ----------------------------------------------------------------------------------------

    def health_ready(self) -> HealthStatus:
        """``GET /health/ready``; a 503 (database down) raises ``PlatformResponseError``."""
        return self._get_object("/health/ready", HealthStatus)

    def ping(self) -> bool:
        """Whether ``/health/ready`` answers 200 now: one attempt, no retry, short timeout."""
        try:
            response = self._http.get(
                "/health/ready",
                headers={"X-Request-ID": _new_request_id()},
                timeout=min(self.timeout, 5.0),
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def list_providers(self) -> list[ProviderSummary]:
        return self._get_list("/api/v1/providers/", ProviderSummary)

    def catalog_compute(
        self, provider_id: str | None = None, *, gpu_only: bool = False
    ) -> list[CatalogComputeFlavor]:
        """The public compute price catalog, all providers or one (§3.4)."""
        path = (
            "/api/v1/providers/catalog/compute"
            if provider_id is None
            else f"/api/v1/providers/{_segment(provider_id)}/catalog/compute"
        )
        params = {"gpu_only": "true"} if gpu_only else None
        return self._get_list(
            path, CatalogComputeFlavor, params=params, timeout=self.catalog_timeout
        )

    def catalog_storage(self, provider_id: str | None = None) -> list[CatalogStorageTier]:
        """The public storage price catalog, all providers or one (§3.4)."""
        path = (
            "/api/v1/providers/catalog/storage"
            if provider_id is None
            else f"/api/v1/providers/{_segment(provider_id)}/catalog/storage"
        )
        return self._get_list(path, CatalogStorageTier, timeout=self.catalog_timeout)

    def list_jobs(
        self,
        *,
        service: str | None = None,
        provider: str | None = None,
        status: str | None = None,
        page_size: int = PAGE_LIMIT,
    ) -> list[PlatformJob]:
        """Every training job, newest first, paging through ``offset``/``limit`` (§4.2)."""
        if not 1 <= page_size <= PAGE_LIMIT:
            raise InvalidInputError(
                f"page_size: must be between 1 and {PAGE_LIMIT}, not {page_size}"
            )
        filters = {"service": service, "provider": provider, "status": status}
        return self._get_pages(
            "/api/v1/training/jobs",
            PlatformJob,
            key=lambda job: job.id,
            params={k: v for k, v in filters.items() if v is not None},
            page_size=page_size,
        )

    def get_job(self, job_id: str) -> PlatformJob:
        """One job; the gateway polls its provider first when it is running (§4.3)."""
        return self._get_object(f"/api/v1/training/{_segment(job_id)}", PlatformJob)

    def dispatch(
        self,
        *,
        service: str,
        model: str,
        provider: str,
        config: Mapping[str, Any] | None = None,
        instance_type: str | None = None,
        region: str | None = None,
        is_spot: bool = False,
        max_runtime_hours: float = 24.0,
        workload_spec: Mapping[str, Any] | None = None,
    ) -> str:
        """Create and submit a training job (§4.4); returns the platform job id."""
        if not max_runtime_hours > 0:
            raise InvalidInputError(
                f"max_runtime_hours: must be greater than 0, not {max_runtime_hours}"
            )
        body: dict[str, Any] = {
            "service": service,
            "model": model,
            "provider": provider,
            "config": dict(config or {}),
            "instance_type": instance_type,
            "region": region,
            "is_spot": is_spot,
            "max_runtime_hours": max_runtime_hours,
            "workload_spec": dict(workload_spec) if workload_spec is not None else None,
        }
        path = "/api/v1/training/dispatch"
        data = self._request("POST", path, json_body=body, idempotent=False)
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise PlatformResponseError(
                f"platform returned an unexpected body for POST {path}: no job_id"
            )
        return job_id

    def cancel_job(self, job_id: str) -> PlatformJob:
        """Cancel a pending or running job (§4.5). Not retried: it is not idempotent."""
        path = f"/api/v1/training/{_segment(job_id)}/cancel"
        data = self._request("POST", path, idempotent=False)
        return self._parse_object("POST", path, data, PlatformJob)

    def list_datasets(
        self, *, status: str | None = None, name: str | None = None
    ) -> list[PlatformDataset]:
        """Every dataset version, newest first (§6.2)."""
        filters = {"status": status, "name": name}
        return self._get_pages(
            "/api/v1/datasets",
            PlatformDataset,
            key=lambda dataset: dataset.id,
            params={k: v for k, v in filters.items() if v is not None},
            page_size=PAGE_LIMIT,
        )

    def dataset_files(self, dataset_id: str) -> list[DatasetFile]:
        return self._get_list(f"/api/v1/datasets/{_segment(dataset_id)}/files", DatasetFile)

    def dataset_stats(self, dataset_id: str) -> DatasetStats:
        """Expensive on the server (it reads the files, §1.10): call it only when needed."""
        return self._get_object(f"/api/v1/datasets/{_segment(dataset_id)}/stats", DatasetStats)

    def list_budgets(self, *, enabled_only: bool = False) -> list[Budget]:
        """Budgets; the platform hides disabled ones unless asked (§7.2), so we ask by default."""
        params = {"enabled_only": "true" if enabled_only else "false"}
        return self._get_list("/api/v1/budgets", Budget, params=params)

    def budget_spending(self, scope: str, scope_value: str) -> list[BudgetSpending]:
        """Spend against each enabled budget with exactly this scope and value (§7.2)."""
        params = {"scope": scope, "scope_value": scope_value}
        return self._get_list("/api/v1/budgets/spending", BudgetSpending, params=params)

    # ----------------------------------------------------------------------------------------
    # Parsing
    # ----------------------------------------------------------------------------------------

    def _get_object(self, path: str, model: type[M]) -> M:
        data = self._request("GET", path)
        return self._parse_object("GET", path, data, model)

    def _get_list(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> list[M]:
        data = self._request("GET", path, params=params, timeout=timeout)
        return self._parse_list("GET", path, data, model)

    def _get_pages(
        self,
        path: str,
        model: type[M],
        *,
        key: Callable[[M], str],
        params: Mapping[str, str],
        page_size: int,
    ) -> list[M]:
        items: dict[str, M] = {}
        offset = 0
        while True:
            query = {**params, "limit": str(page_size), "offset": str(offset)}
            data = self._request("GET", path, params=query)
            page = self._parse_list("GET", path, data, model, offset=offset)
            new = 0
            for item in page:
                item_key = key(item)
                if item_key not in items:
                    items[item_key] = item
                    new += 1
            if len(page) < page_size:
                return list(items.values())
            if new == 0:
                raise PlatformResponseError(
                    f"platform paging did not advance for GET {path} at offset {offset}: "
                    "the same items came back (does the server ignore offset?)"
                )
            offset += len(page)

    @staticmethod
    def _parse_object(method: str, path: str, data: Any, model: type[M]) -> M:
        if not isinstance(data, dict):
            raise PlatformResponseError(
                f"platform returned an unexpected body for {method} {path}: "
                f"expected a JSON object, got {_json_kind(data)}"
            )
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise PlatformResponseError(
                f"platform returned an unexpected body for {method} {path}: "
                f"{format_validation_error(exc)}"
            ) from None

    @staticmethod
    def _parse_list(
        method: str, path: str, data: Any, model: type[M], *, offset: int = 0
    ) -> list[M]:
        if not isinstance(data, list):
            raise PlatformResponseError(
                f"platform returned an unexpected body for {method} {path}: "
                f"expected a JSON array, got {_json_kind(data)}"
            )
        items: list[M] = []
        for index, raw in enumerate(data):
            if not isinstance(raw, dict):
                raise PlatformResponseError(
                    f"platform returned an unexpected body for {method} {path}: item "
                    f"{offset + index} is {_json_kind(raw)}, not an object"
                )
            try:
                items.append(model.model_validate(raw))
            except ValidationError as exc:
                raise PlatformResponseError(
                    f"platform returned an unexpected body for {method} {path}: item "
                    f"{offset + index}: {format_validation_error(exc)}"
                ) from None
        return items

    # ----------------------------------------------------------------------------------------
    # Transport, retries, error mapping
    # ----------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        timeout: float | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one call with retries; return its decoded JSON body."""
        call_id = _new_request_id()
        attempt = 0
        while True:
            request_id = call_id if attempt == 0 else f"{call_id}-r{attempt}"
            started = time.monotonic()
            limit = timeout if timeout is not None else self.timeout
            try:
                with self._http.stream(
                    method,
                    path,
                    params=params,
                    json=json_body,
                    headers={"X-Request-ID": request_id},
                    timeout=limit,
                ) as streamed:
                    body = _read_body(
                        streamed,
                        f"{method} {path}",
                        request_id,
                        started + RESPONSE_DEADLINE_FACTOR * limit,
                    )
                response = _with_body(streamed, body)
            except httpx.TransportError as exc:
                reason = _transport_reason(exc)
                retry = idempotent or isinstance(exc, httpx.ConnectError)
                if retry and attempt < self.max_retries:
                    wait = self._backoff_wait(attempt)
                    logger.warning(
                        "platform %s %s failed (%s); retry %d/%d in %.2fs [request %s]",
                        method,
                        path,
                        reason,
                        attempt + 1,
                        self.max_retries,
                        wait,
                        request_id,
                    )
                    self._sleep(wait)
                    attempt += 1
                    continue
                message = f"platform {self.url} unreachable for {method} {path}: {reason}"
                if attempt:
                    message += f" (after {attempt + 1} attempts)"
                if not retry:
                    # A POST that timed out may still have been carried out by the platform.
                    message += "; the platform may have processed it, check before resending"
                raise PlatformUnreachableError(message) from None
            except httpx.DecodingError:
                raise PlatformResponseError(
                    f"platform returned a body that cannot be decoded for {method} {path} "
                    f"(request {request_id})",
                    request_id=request_id,
                ) from None
            except httpx.TooManyRedirects:
                raise PlatformResponseError(
                    f"platform redirected {method} {path} too many times (request {request_id})",
                    request_id=request_id,
                ) from None
            elapsed_ms = (time.monotonic() - started) * 1000
            server_id = response.headers.get("x-request-id") or request_id
            logger.debug(
                "platform %s %s -> %d in %.0f ms [request %s]",
                method,
                path,
                response.status_code,
                elapsed_ms,
                server_id,
            )
            status = response.status_code
            retryable = status in RETRYABLE_STATUSES and (idempotent or status == 429)
            if retryable and attempt < self.max_retries:
                wait = self._retry_wait(response, attempt)
                logger.warning(
                    "platform %s %s answered %d; retry %d/%d in %.2fs [request %s]",
                    method,
                    path,
                    status,
                    attempt + 1,
                    self.max_retries,
                    wait,
                    server_id,
                )
                self._sleep(wait)
                attempt += 1
                continue
            if status >= 400:
                raise self._error_for(method, path, response, server_id, retries=attempt)
            if status == 204 or not response.content:
                return None
            return self._decode(method, path, response, server_id)

    def _backoff_wait(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * (2**attempt)))

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        if response.status_code == 429:
            advised = _retry_after_seconds(response)
            if advised is not None:
                return min(self.max_backoff, advised)
        return self._backoff_wait(attempt)

    @staticmethod
    def _decode(method: str, path: str, response: httpx.Response, request_id: str) -> Any:
        try:
            return json.loads(response.content, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError):
            raise PlatformResponseError(
                f"platform returned malformed JSON for {method} {path} (request {request_id})",
                status_code=response.status_code,
                request_id=request_id,
            ) from None

    def _error_for(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        request_id: str,
        *,
        retries: int,
    ) -> PlatformResponseError | PlatformAuthError:
        status = response.status_code
        code, message, body_id = _error_fields(response)
        request_id = body_id or request_id
        if status == 401:
            hint = (
                "check ARTENIC_API_KEY"
                if self._has_key
                else "the platform requires an API key; set ARTENIC_API_KEY"
            )
            return PlatformAuthError(
                f"platform refused authentication for {method} {path} (401"
                f"{' ' + code if code else ''}): {hint} (request {request_id})"
            )
        where = f"{method} {path}"
        if status == 500 and any(m == method and p.match(path) for m, p in _NOT_FOUND_OR_REJECTED):
            text = f"platform answered 500 for {where}: not found or rejected"
        elif status == 503 and path == "/health/ready":
            text = f"platform answered 503 for {where}: its database is down"
        elif status == 429:
            text = f"platform rate limit still exceeded for {where} after {retries} retries"
        elif status >= 500:
            text = f"platform server error {status} for {where}"
            if message and message != "An unexpected error occurred.":
                text += f": {message}"
        else:
            text = f"platform answered {status} for {where}"
            if message:
                text += f": {message}"
            detail = _validation_detail(response)
            if detail:
                text += f" ({detail})"
        return PlatformResponseError(
            f"{text} (request {request_id})", status_code=status, request_id=request_id
        )


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _segment(value: str) -> str:
    """One URL path segment: ids are client-chosen for datasets, so escape them."""
    if not value or not value.strip():
        raise InvalidInputError("id: must not be empty")
    return quote(value, safe="")


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _read_body(response: httpx.Response, where: str, request_id: str, deadline: float) -> bytes:
    """The decoded body, at most ``MAX_RESPONSE_BYTES``, read by ``deadline`` (monotonic)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _too_large(response, where, request_id)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _too_large(response, where, request_id)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("response not complete in time", request=response.request)
    return b"".join(chunks)


def _too_large(response: httpx.Response, where: str, request_id: str) -> PlatformResponseError:
    return PlatformResponseError(
        f"platform response to {where} is larger than {MAX_RESPONSE_BYTES // 2**20} MiB "
        f"(request {request_id})",
        status_code=response.status_code,
        request_id=request_id,
    )


def _with_body(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A plain response holding the already decoded ``body`` (no encoding headers left)."""
    dropped = {"content-encoding", "content-length", "transfer-encoding"}
    headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in dropped]
    return httpx.Response(
        streamed.status_code, headers=headers, content=body, request=streamed.request
    )


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host not found"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection dropped, response cut short"
    return type(exc).__name__


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """``(code, message, request_id)`` from a §1.7 error body, tolerating any other body."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None, None, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        detail = body.get("detail") if isinstance(body, dict) else None
        return None, detail if isinstance(detail, str) else None, None
    code, message, request_id = (error.get(k) for k in ("code", "message", "request_id"))
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
        request_id if isinstance(request_id, str) and request_id else None,
    )


def _validation_detail(response: httpx.Response) -> str | None:
    """The first 422 ``details.errors`` entry as ``loc: msg``."""
    try:
        body = json.loads(response.content)
        errors: Sequence[Any] = body["error"]["details"]["errors"]
        first = errors[0]
        loc = ".".join(str(part) for part in first.get("loc", ()))
        msg = str(first.get("msg", ""))
    except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError, AttributeError):
        return None
    return f"{loc}: {msg}" if loc else msg or None


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (integer or HTTP date), else ``details.retry_after_seconds``."""
    header = response.headers.get("retry-after")
    if header:
        header = header.strip()
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
        else:
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
    try:
        body = json.loads(response.content)
        value = body["error"]["details"]["retry_after_seconds"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None
