"""The library's exceptions and the documented exit codes they map to.

The library raises only ``ArtenicOptError`` subclasses, each carrying a one-line message meant for
a person. The CLI is the single place that turns them into exit codes (``cli/errors.py``); nothing
else calls ``sys.exit``.

Exit codes (DESIGN §4):

* 0 success
* 1 unexpected internal error
* 2 bad usage or invalid input (including an unreadable state, config or model file)
* 3 platform unreachable, timed out, or refused authentication
* 4 no feasible result: nothing satisfies the constraints
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    PLATFORM = 3
    INFEASIBLE = 4


class ArtenicOptError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInputError(ArtenicOptError):
    """The user gave something the tool cannot use (a field, a flag, a file)."""

    exit_code = ExitCode.USAGE
    code = "invalid_input"


class ConfigError(InvalidInputError):
    """A configuration file or value is malformed."""

    code = "invalid_config"


class StateError(InvalidInputError):
    """The state file cannot be used (not a state database, newer schema, unreadable)."""

    code = "invalid_state"


class NotFoundError(InvalidInputError):
    """A referenced record (recommendation, dataset, model) does not exist."""

    code = "not_found"


class ModelFileError(InvalidInputError):
    """A stored ranking model is corrupt, foreign, or for another feature schema."""

    code = "invalid_model"


class CurrencyError(InvalidInputError):
    """Amounts in different currencies were to be combined without a rate."""

    code = "missing_exchange_rate"


class InfeasibleError(ArtenicOptError):
    """Nothing satisfies the constraints; the message names the binding one."""

    exit_code = ExitCode.INFEASIBLE
    code = "no_feasible_result"


class PlatformError(ArtenicOptError):
    """The Artenic platform could not be used."""

    exit_code = ExitCode.PLATFORM
    code = "platform_error"


class PlatformUnreachableError(PlatformError):
    """Connection refused, DNS failure, or timeout."""

    code = "platform_unreachable"


class PlatformNotConfiguredError(PlatformError):
    """No platform URL was given (flag, env or profile): nothing to call."""

    code = "platform_not_configured"


class PlatformAuthError(PlatformError):
    """The platform refused the API key (401)."""

    code = "platform_auth_failed"


class PlatformResponseError(PlatformError):
    """The platform answered, but with an error status or a body that breaks the contract."""

    code = "platform_bad_response"

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
