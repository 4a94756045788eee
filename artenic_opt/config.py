"""Settings: the platform connection (shared with the platform's own CLI) and optimizer options.

Precedence everywhere: command-line flags > environment > config file > defaults.

Platform connection (DESIGN §4, platform-api §1.2). The platform's ``artenic`` CLI reads
``ARTENIC_URL``, ``ARTENIC_API_KEY``, ``ARTENIC_TIMEOUT`` and ``ARTENIC_PROFILE``, and profile
sections of ``~/.artenic/config.toml``. We read the same, so one set-up serves both tools. A
profile is a table named after it (``[default]``, ``[staging]``); ``[profiles.NAME]`` is accepted
too. Keys: ``url``, ``api_key``, ``timeout``.

The platform counts as *configured* only when a URL or key was given somewhere (flag, env or
profile). Without that, commands never try the network: the tool works offline from the state and
the embedded catalog.

Optimizer options live in their own file (``ARTENIC_OPT_CONFIG``, default
``user_config_path("artenic-optimizer")/config.toml``)::

    display_currency = "EUR"          # env ARTENIC_OPT_CURRENCY
    mode = "auto"                     # env ARTENIC_OPT_MODE: heuristic | ltr | hybrid | auto
    max_price_age_days = 180          # status warns when catalog prices are older
    storage_provider = "AWS"          # whose storage tier prices `storage` commands use

    [exchange_rates]                  # units of each currency per 1 USD
    EUR = 0.92

    [discounts]                       # percent off list price, per provider
    AWS = 12.5

    [ltr]
    min_samples = 50                  # samples before a model may be trained and used
    retrain_after = 25                # new samples that trigger an automatic retrain

A malformed file (bad TOML, unknown key, wrong type) is an error naming the file, never a
silent default. The API key is held as ``SecretStr`` so that it never shows in a repr or log.
"""

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from artenic_opt import paths
from artenic_opt.errors import ConfigError
from artenic_opt.schemas import format_validation_error
from artenic_opt.types import OptimizerMode

DEFAULT_PLATFORM_URL = "http://localhost:9000"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_PROFILE = "default"


class PlatformSettings(BaseModel):
    """How to reach the Artenic platform."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    url: str = DEFAULT_PLATFORM_URL
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=3600)
    profile: str = DEFAULT_PROFILE
    configured: bool = False
    url_source: str = "default"

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class LtrSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    min_samples: int = Field(default=50, ge=2, le=10_000_000)
    retrain_after: int = Field(default=25, ge=1, le=10_000_000)


class OptimizerSettings(BaseModel):
    """Options of the optimizer itself (its own config file)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    display_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    mode: OptimizerMode = OptimizerMode.AUTO
    max_price_age_days: int = Field(default=365, ge=1, le=100_000)
    storage_provider: str = Field(default="AWS", min_length=1)
    exchange_rates: dict[str, float] = Field(default_factory=dict)
    discounts: dict[str, float] = Field(default_factory=dict)
    ltr: LtrSettings = Field(default_factory=LtrSettings)
    #: A full fine-tune costing more than this many times the best LoRA plan gets LoRA/QLoRA
    #: alternatives in its advice (issue 12).
    alternatives_threshold: float = Field(default=3.0, ge=1.0, le=1000.0)

    @field_validator("exchange_rates")
    @classmethod
    def _check_rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            if len(code) != 3 or not code.isalpha() or not code.isupper():
                raise ValueError(f"exchange_rates: {code!r} is not an ISO currency code like EUR")
            if not rate > 0:
                raise ValueError(f"exchange_rates.{code}: must be greater than 0")
        return value

    @field_validator("discounts")
    @classmethod
    def _check_discounts(cls, value: dict[str, float]) -> dict[str, float]:
        for provider, pct in value.items():
            if not 0 <= pct < 100:
                raise ValueError(f"discounts.{provider}: must be a percentage from 0 to below 100")
        return value


class Settings(BaseModel):
    """Everything a command needs to know about its environment."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    state_path: Path
    platform: PlatformSettings
    optimizer: OptimizerSettings
    optimizer_config_path: Path
    platform_config_path: Path


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a TOML config file (not UTF-8 text)") from None
    except RecursionError:
        raise ConfigError(f"{path}: malformed TOML: nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None


def _profile_section(data: dict[str, Any], profile: str, path: Path) -> dict[str, Any]:
    section: Any = None
    for container in (data.get("profiles"), data.get("profile"), data):
        if isinstance(container, dict) and profile in container:
            section = container[profile]
            break
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: profile [{profile}] must be a table")
    # The platform CLI may keep more keys in its profiles; we only read ours.
    ours: dict[str, Any] = {k: v for k, v in section.items() if k in {"url", "api_key", "timeout"}}
    return ours


def _parse_timeout(raw: Any, where: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: timeout must be a number of seconds, not {raw!r}") from None
    if not 0 < value <= 3600:
        raise ConfigError(f"{where}: timeout must be between 0 and 3600 seconds, not {raw!r}")
    return value


def load_platform_settings(
    *,
    url: str | None = None,
    api_key: str | None = None,
    timeout_s: float | None = None,
    profile: str | None = None,
) -> PlatformSettings:
    """Resolve the platform connection: flags > env > profile in the shared file > defaults."""
    path = paths.platform_config_path()
    profile_name = profile or os.environ.get("ARTENIC_PROFILE") or DEFAULT_PROFILE
    section = _profile_section(_read_toml(path), profile_name, path)

    resolved_url: str | None = None
    source = "default"
    for candidate, where in (
        (url, "flag"),
        (os.environ.get("ARTENIC_URL"), "env ARTENIC_URL"),
        (section.get("url"), f"{path} [{profile_name}]"),
    ):
        if candidate:
            resolved_url, source = str(candidate), where
            break

    key: str | None = None
    for candidate in (api_key, os.environ.get("ARTENIC_API_KEY"), section.get("api_key")):
        if candidate:
            key = str(candidate)
            break

    timeout = DEFAULT_TIMEOUT_S
    if timeout_s is not None:
        timeout = _parse_timeout(timeout_s, "--timeout")
    elif os.environ.get("ARTENIC_TIMEOUT"):
        timeout = _parse_timeout(os.environ["ARTENIC_TIMEOUT"], "ARTENIC_TIMEOUT")
    elif "timeout" in section:
        timeout = _parse_timeout(section["timeout"], f"{path} [{profile_name}]")

    try:
        return PlatformSettings(
            url=resolved_url or DEFAULT_PLATFORM_URL,
            api_key=SecretStr(key) if key else None,
            timeout_s=timeout,
            profile=profile_name,
            configured=bool(resolved_url or key),
            url_source=source,
        )
    except ValidationError as exc:
        raise ConfigError(f"platform settings ({source}): {format_validation_error(exc)}") from None


def load_optimizer_settings() -> OptimizerSettings:
    """Read the optimizer's own config file, then apply environment overrides."""
    path = paths.optimizer_config_path()
    data = _read_toml(path)
    env_currency = os.environ.get("ARTENIC_OPT_CURRENCY")
    env_mode = os.environ.get("ARTENIC_OPT_MODE")
    try:
        settings = OptimizerSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_validation_error(exc)}") from None
    overrides: dict[str, Any] = {}
    if env_currency:
        overrides["display_currency"] = env_currency.upper()
    if env_mode:
        overrides["mode"] = env_mode.lower()
    if overrides:
        try:
            settings = OptimizerSettings.model_validate(
                {**settings.model_dump(mode="json"), **overrides}
            )
        except ValidationError as exc:
            raise ConfigError(f"environment: {format_validation_error(exc)}") from None
    return settings


def load_settings(
    *,
    state: str | os.PathLike[str] | None = None,
    url: str | None = None,
    api_key: str | None = None,
    timeout_s: float | None = None,
    profile: str | None = None,
) -> Settings:
    return Settings(
        state_path=paths.state_path(state),
        platform=load_platform_settings(
            url=url, api_key=api_key, timeout_s=timeout_s, profile=profile
        ),
        optimizer=load_optimizer_settings(),
        optimizer_config_path=paths.optimizer_config_path(),
        platform_config_path=paths.platform_config_path(),
    )
