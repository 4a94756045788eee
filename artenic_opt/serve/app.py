"""The ASGI app: authentication, body limit, CORS, error mapping and the routes.

Errors are shaped like the platform's FastAPI errors, ``{"detail": ...}``, and come from the same
exception classes that give the CLI its exit codes:

=====================================  ======  =====================================
library error (CLI exit code)          status  ``detail``
=====================================  ======  =====================================
request validation (pydantic)          422     list of ``{loc, msg, type}`` naming the field
``NotFoundError`` (2)                  404     message
other ``InvalidInputError`` (2)        400     message
``InfeasibleError`` (4)                409     message naming the binding constraint
``PlatformError`` (3)                  503     message
missing or wrong Bearer key            401     ``invalid or missing API key``
body over ``--max-body-bytes``         413     ``request body larger than N bytes``
anything else (1)                      500     ``internal error`` (the reason is only logged)
=====================================  ======  =====================================

Decisions: authentication and the body limit are one pure ASGI middleware (no per-request
``Request`` objects, and a rejected request never reaches routing); ``/health`` is the only
route without authentication. The key is compared with ``hmac.compare_digest`` and appears in no
log line or error body. The interactive docs pages are off (they load scripts from a CDN); the
schema stays at ``/openapi.json``.
"""

from __future__ import annotations

import hmac
import json
import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from artenic_opt import __version__
from artenic_opt.errors import (
    ArtenicOptError,
    InfeasibleError,
    InvalidInputError,
    NotFoundError,
    PlatformError,
)
from artenic_opt.serve.context import ServerContext
from artenic_opt.serve.options import ServeOptions, check_options

log = logging.getLogger("artenic_opt.serve")

UNAUTHENTICATED_PATHS = frozenset({"/health"})


def status_of(exc: ArtenicOptError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InvalidInputError):
        return 400
    if isinstance(exc, InfeasibleError):
        return 409
    if isinstance(exc, PlatformError):
        return 503
    return 500


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> None:
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


class GuardMiddleware:
    """Bearer authentication (when a key is set) and the request body size limit."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body_bytes: int) -> None:
        self.app = app
        self._key = None if api_key is None else api_key.encode()
        self._limit = max_body_bytes

    def _authorized(self, scope: Scope) -> bool:
        assert self._key is not None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                # Always compare, so a wrong scheme costs the same time as a wrong key.
                same = hmac.compare_digest(token.strip(), self._key)
                return same and scheme.lower() == b"bearer"
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (
            self._key is not None
            and scope["path"] not in UNAUTHENTICATED_PATHS
            and scope["method"] != "OPTIONS"
            and not self._authorized(scope)
        ):
            await _send_json(
                send,
                401,
                {"detail": "invalid or missing API key"},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        limit = self._limit
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, {"detail": "invalid Content-Length header"})
                    return
                if declared > limit:
                    await _send_json(send, 413, {"detail": BodyTooLargeError(limit).detail})
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside body reading: FastAPI re-raises HTTPException as is.
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, limited, send)


def _validation_detail(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in errors
    ]


def create_app(options: ServeOptions, api_key: str | None) -> FastAPI:
    """The app for one process; ``api_key`` ``None`` means authentication is off."""
    from artenic_opt.serve.routes import router

    # FastAPI hands a body parameter's name to pydantic as an alias that recent pydantic
    # versions flag as unused; the warning is about FastAPI's internals, not about this app.
    warnings.filterwarnings(
        "ignore", message="The 'alias' attribute with value", category=UserWarning
    )
    ctx = ServerContext.create(options, api_key)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ctx.warm()
        yield
        ctx.shutdown(options.graceful_timeout_s)

    app = FastAPI(
        title="artenic-opt",
        version=__version__,
        description="The Artenic optimizer's API: the same documents as `artenic-opt --json`.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.include_router(router)

    @app.exception_handler(ArtenicOptError)
    async def library_error(request: Request, exc: ArtenicOptError) -> JSONResponse:
        status = status_of(exc)
        if status == 500:
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return JSONResponse({"detail": exc.message}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_detail(exc.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "%s %s: internal error",
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return JSONResponse({"detail": "internal error"}, status_code=500)

    app.add_middleware(GuardMiddleware, api_key=api_key, max_body_bytes=options.max_body_bytes)
    if options.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        # Outside the guard: a browser's preflight carries no Authorization header.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (``--workers > 1``): options from the environment."""
    options = ServeOptions.from_env()
    return create_app(options, check_options(options))
