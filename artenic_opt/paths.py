"""Where artenic-opt keeps its files: the one module that knows paths (platformdirs).

* State database: ``--state PATH`` > ``ARTENIC_OPT_STATE`` > ``user_data_path("artenic-optimizer")
  / "state.db"``. Trained ranking models live in a ``models/`` folder beside the state file, so
  moving the state moves everything that belongs to it.
* Optimizer settings (display currency, exchange rates, discounts, thresholds):
  ``ARTENIC_OPT_CONFIG`` > ``user_config_path("artenic-optimizer") / "config.toml"``.
* Platform connection profiles are shared with the platform's own CLI:
  ``~/.artenic/config.toml`` (``ARTENIC_CONFIG_FILE`` overrides it, for tests and odd set-ups).

platformdirs (seven modules) is imported only when a default location is needed: a command run
with ``--state`` or the environment variables set never loads it.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "artenic-optimizer"
STATE_ENV = "ARTENIC_OPT_STATE"
CONFIG_ENV = "ARTENIC_OPT_CONFIG"
PLATFORM_CONFIG_ENV = "ARTENIC_CONFIG_FILE"


def state_path(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME) / "state.db"


def models_dir(state_file: Path) -> Path:
    return state_file.parent / (state_file.stem + "-models")


def optimizer_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def platform_config_path() -> Path:
    env = os.environ.get(PLATFORM_CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".artenic" / "config.toml"
