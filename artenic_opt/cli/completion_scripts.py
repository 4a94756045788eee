"""Shell completion scripts for bash, zsh and fish, generated from the Typer app.

The scripts are Click's dynamic completion hooks: the shell asks the program itself for
candidates, so they stay correct as commands change. They are written to ``completions/`` by
``python -m artenic_opt.cli.completion_scripts`` and a test fails when the files there differ from
what the app generates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.shell_completion import get_completion_class
from typer.main import get_command

SHELLS: tuple[str, ...] = ("bash", "zsh", "fish")
PROGRAMS: tuple[str, ...] = ("artenic-opt", "artenic")
SUFFIX = {"bash": "bash", "zsh": "zsh", "fish": "fish"}


def render(shell: str, prog: str) -> str:
    from artenic_opt.cli.main import app, artenic_app

    command = get_command(app if prog == "artenic-opt" else artenic_app)
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        raise ValueError(f"unsupported shell {shell}")
    complete_var = "_" + prog.replace("-", "_").upper() + "_COMPLETE"
    return cls(command, {}, prog, complete_var).source()


def expected_files() -> dict[str, str]:
    return {
        f"{prog}.{SUFFIX[shell]}": render(shell, prog) for prog in PROGRAMS for shell in SHELLS
    }


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_files().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("completions")
    for path in write(target):
        print(path)
