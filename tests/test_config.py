"""Settings resolution: flags > env > file > defaults, and loud errors for malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from artenic_opt import paths
from artenic_opt.config import (
    DEFAULT_PLATFORM_URL,
    load_optimizer_settings,
    load_platform_settings,
    load_settings,
)
from artenic_opt.errors import ConfigError
from artenic_opt.types import OptimizerMode


def write_platform_config(text: str) -> Path:
    path = paths.platform_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_optimizer_config(text: str) -> Path:
    path = paths.optimizer_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_any_configuration() -> None:
    settings = load_platform_settings()
    assert settings.url == DEFAULT_PLATFORM_URL
    assert settings.api_key is None
    assert settings.timeout_s == 30.0
    assert settings.profile == "default"
    assert settings.configured is False


def test_profile_file_then_env_then_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    write_platform_config(
        '[default]\nurl = "http://file:1"\napi_key = "file-key"\ntimeout = 12\n'
        '[staging]\nurl = "http://staging:2"\n'
    )
    settings = load_platform_settings()
    assert (settings.url, settings.timeout_s, settings.configured) == ("http://file:1", 12.0, True)
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "file-key"

    monkeypatch.setenv("ARTENIC_URL", "http://env:3/")
    monkeypatch.setenv("ARTENIC_TIMEOUT", "7.5")
    settings = load_platform_settings()
    assert settings.url == "http://env:3"
    assert settings.timeout_s == 7.5
    assert settings.url_source == "env ARTENIC_URL"

    settings = load_platform_settings(url="http://flag:4", timeout_s=3)
    assert (settings.url, settings.timeout_s, settings.url_source) == ("http://flag:4", 3, "flag")

    monkeypatch.delenv("ARTENIC_URL")
    monkeypatch.setenv("ARTENIC_PROFILE", "staging")
    assert load_platform_settings().url == "http://staging:2"


def test_profiles_table_form_is_accepted() -> None:
    write_platform_config('[profiles.prod]\nurl = "https://prod.example"\n')
    assert load_platform_settings(profile="prod").url == "https://prod.example"


def test_api_key_is_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTENIC_API_KEY", "sk-very-secret-123")
    settings = load_settings()
    assert settings.platform.configured is True
    assert "sk-very-secret-123" not in repr(settings)
    assert "sk-very-secret-123" not in settings.model_dump_json()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[default\nurl = 1", "malformed TOML"),
        ('[default]\nurl = "ftp://x"', "url"),
        ('[default]\ntimeout = "soon"', "timeout"),
        ("default = 3", "must be a table"),
    ],
)
def test_malformed_platform_config_is_an_error(text: str, fragment: str) -> None:
    path = write_platform_config(text)
    with pytest.raises(ConfigError) as info:
        load_platform_settings()
    assert fragment in str(info.value)
    assert str(path) in str(info.value) or "platform settings" in str(info.value)


def test_bad_timeout_env_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTENIC_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="ARTENIC_TIMEOUT"):
        load_platform_settings()


def test_optimizer_settings_file_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    write_optimizer_config(
        'display_currency = "EUR"\nmode = "hybrid"\n[exchange_rates]\nGBP = 0.79\n'
        "[discounts]\nAWS = 10\n[ltr]\nmin_samples = 80\n"
    )
    settings = load_optimizer_settings()
    assert settings.display_currency == "EUR"
    assert settings.mode is OptimizerMode.HYBRID
    assert settings.exchange_rates == {"GBP": 0.79}
    assert settings.discounts == {"AWS": 10}
    assert settings.ltr.min_samples == 80
    monkeypatch.setenv("ARTENIC_OPT_CURRENCY", "usd")
    monkeypatch.setenv("ARTENIC_OPT_MODE", "HEURISTIC")
    settings = load_optimizer_settings()
    assert settings.display_currency == "USD"
    assert settings.mode is OptimizerMode.HEURISTIC


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("colour = 'blue'", "colour"),
        ('display_currency = "dollars"', "display_currency"),
        ('mode = "magic"', "mode"),
        ("[exchange_rates]\nEUR = -1", "exchange_rates.EUR"),
        ("[exchange_rates]\neuro = 1", "ISO currency code"),
        ("[discounts]\nAWS = 150", "discounts.AWS"),
        ("[ltr]\nmin_samples = 0", "ltr.min_samples"),
        ("mode = ", "malformed TOML"),
    ],
)
def test_malformed_optimizer_config_is_an_error(text: str, fragment: str) -> None:
    path = write_optimizer_config(text)
    with pytest.raises(ConfigError) as info:
        load_optimizer_settings()
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_bad_env_mode_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTENIC_OPT_MODE", "psychic")
    with pytest.raises(ConfigError, match="environment: mode"):
        load_optimizer_settings()


def test_state_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().state_path == tmp_path / "state" / "state.db"
    assert load_settings(state=tmp_path / "x.db").state_path == tmp_path / "x.db"
    monkeypatch.delenv("ARTENIC_OPT_STATE")
    default = load_settings().state_path
    assert default.name == "state.db"
    assert "artenic-optimizer" in str(default)
    assert str(default).startswith(str(tmp_path))


def test_unreadable_config_path_is_an_error() -> None:
    path = paths.optimizer_config_path()
    path.mkdir(parents=True)  # a directory where a file is expected
    with pytest.raises(ConfigError, match="cannot read"):
        load_optimizer_settings()


def test_a_url_that_is_not_http_names_its_source_once_and_hides_its_password() -> None:
    with pytest.raises(ConfigError) as info:
        load_platform_settings(url="ftp://user:hunter2@host")
    assert str(info.value) == ("platform settings (flag): url: must start with http:// or https://")
    path = write_platform_config('[default]\nurl = "ftp://user:hunter2@host"\n')
    with pytest.raises(ConfigError) as info:
        load_platform_settings()
    assert str(info.value) == (
        f"platform settings ({path} [default]): url: must start with http:// or https://"
    )
