"""Completion scripts: fresh with respect to the app, and working in a real bash."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from artenic_opt.cli.completion_scripts import expected_files, render

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"


@pytest.mark.parametrize("name", sorted(expected_files()))
def test_completion_files_are_fresh(name: str) -> None:
    on_disk = (COMPLETIONS / name).read_text(encoding="utf-8")
    assert on_disk == expected_files()[name], (
        f"completions/{name} is stale: run `python -m artenic_opt.cli.completion_scripts "
        "completions`"
    )


def bash_complete(prog: str, words: list[str]) -> list[str]:
    script = COMPLETIONS / f"{prog}.bash"
    func = "_" + prog.replace("-", "_") + "_complete"
    quoted = " ".join(f"'{w}'" for w in words)
    code = (
        f"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        f'{func}; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    out = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_commands_and_options() -> None:
    assert "catalog" in bash_complete("artenic-opt", ["artenic-opt", "cat"])
    assert bash_complete("artenic-opt", ["artenic-opt", "catalog", "g"]) == ["gpus"]
    options = bash_complete("artenic-opt", ["artenic-opt", "catalog", "list", "--"])
    assert {"--gpu", "--provider", "--json", "--state"} <= set(options)
    assert bash_complete("artenic", ["artenic", "opt"]) == ["optimizer"]
    assert "status" in bash_complete("artenic", ["artenic", "optimizer", "st"])


@pytest.mark.parametrize(("shell", "flag"), [("zsh", "-n"), ("fish", "--no-execute")])
def test_other_shells_parse_their_scripts(shell: str, flag: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    path = tmp_path / f"c.{shell}"
    path.write_text(render(shell, "artenic-opt"))
    subprocess.run([shell, flag, str(path)], check=True, capture_output=True)


def test_unknown_shell_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported shell"):
        render("tcsh", "artenic-opt")
