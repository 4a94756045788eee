"""The console scripts' entry: which command modules get built, and how the process ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.main import get_command

from artenic_opt.cli.main import (
    COMMAND_MODULES,
    ROOT_VALUE_OPTIONS,
    build_app,
    exit_status,
    modules_for,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["recommend", "--workload", "x.toml"], ["training"]),
        (["--state", "s.db", "recommend"], ["training"]),
        (["--state=s.db", "--timeout", "3", "cost", "compare"], ["cost"]),
        (["--url", "http://h", "--profile", "p", "sync"], ["platform"]),
        (["feedback", "record"], ["training"]),
        (["catalog", "--help"], ["catalog"]),
        (["dashboard"], ["dashboard"]),
        ([], None),
        (["--help"], None),
        (["-h"], None),
        (["--version"], None),
        (["--show-completion"], None),
        (["recomend"], None),  # unknown: the whole tree, so Click can suggest the right name
        (["--state"], None),  # missing value: Click reports it
        (["--", "recommend"], None),
        (["--unknown", "recommend"], None),
    ],
)
def test_modules_for_picks_the_named_command_module(
    args: list[str], expected: list[str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("_ARTENIC_OPT_COMPLETE", raising=False)
    assert modules_for(args) == expected


def test_shell_completion_gets_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ARTENIC_OPT_COMPLETE", "bash_complete")
    assert modules_for(["recommend"]) is None
    monkeypatch.setenv("_ARTENIC_COMPLETE", "zsh_complete")
    assert modules_for(["recommend"], "artenic") is None


def test_root_value_options_are_the_roots_options_that_take_a_value() -> None:
    root = get_command(build_app([]))
    taking_values = {
        name
        for param in root.params
        if not getattr(param, "is_flag", False) and param.param_type_name == "option"
        for name in param.opts
    }
    assert taking_values == ROOT_VALUE_OPTIONS


@pytest.mark.parametrize("module", list(COMMAND_MODULES))
def test_each_module_registers_the_names_it_is_listed_with(module: str) -> None:
    group = get_command(build_app([module]))
    assert set(group.commands) == set(COMMAND_MODULES[module])  # type: ignore[attr-defined]


def test_the_whole_tree_is_every_module() -> None:
    group = get_command(build_app())
    expected = [name for names in COMMAND_MODULES.values() for name in names]
    assert sorted(group.commands) == sorted(expected)  # type: ignore[attr-defined]
    assert len(expected) == len(set(expected))


def test_exit_status_follows_sys_exit(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status(None) == 0
    assert exit_status(4) == 4
    assert exit_status("bad thing") == 1
    assert "bad thing" in capsys.readouterr().err


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Block-buffered stdout (as for any pipe), so that the flush is what the tests observe.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_end_process_runs_atexit_flushes_and_keeps_the_status(tmp_path: Path) -> None:
    result = _run(
        """
        import atexit, sys
        from pathlib import Path
        from artenic_opt.cli.main import end_process
        atexit.register(lambda: Path(sys.argv[1], "atexit-ran").write_text("yes"))
        sys.stdout.write("unflushed output")
        sys.stderr.write("unflushed error")
        end_process(SystemExit(4))
        print("never reached")
        """,
        tmp_path,
    )
    assert result.returncode == 4
    assert result.stdout == "unflushed output"
    assert result.stderr == "unflushed error"
    assert (tmp_path / "atexit-ran").read_text() == "yes"


def test_end_process_waits_for_a_live_thread(tmp_path: Path) -> None:
    result = _run(
        """
        import sys, threading, time
        from pathlib import Path
        from artenic_opt.cli.main import end_process
        def work():
            time.sleep(0.3)
            Path(sys.argv[1], "thread-done").write_text("yes")
        threading.Thread(target=work).start()
        end_process(SystemExit(3))
        """,
        tmp_path,
    )
    assert result.returncode == 3
    assert (tmp_path / "thread-done").read_text() == "yes"


def test_console_script_keeps_stored_data(tmp_path: Path) -> None:
    """The fast exit happens after the store is closed: the next process sees the record."""
    state = tmp_path / "state.db"
    example = Path(__file__).parents[2] / "examples" / "llm-lora-7b.toml"
    recommend = ["recommend", "--workload", str(example), "--top", "2", "--json"]
    first = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--state", str(state), *recommend],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    history = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--state", str(state), "history", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert history.returncode == 0, history.stderr
    assert '"llm-lora-7b"' in history.stdout
    assert not Path(f"{state}-wal").exists() or Path(f"{state}-wal").stat().st_size == 0


def test_end_process_with_a_closed_stdout_exits_1(tmp_path: Path) -> None:
    result = _run(
        """
        import os, sys
        from artenic_opt.cli.main import end_process
        sys.stdout.write("lost")
        os.close(sys.stdout.fileno())
        end_process(SystemExit(0))
        """,
        tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_artenic_optimizer_takes_the_global_options_before_the_command(tmp_path: Path) -> None:
    """``artenic optimizer --state X`` (and ``--url``/``--timeout``) reach the command.

    The options live on the ``optimizer`` group's context there, not on the root's: reading
    them from the root sent every command to the default state and no platform.
    """
    state = tmp_path / "chosen.db"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    for name in ("ARTENIC_OPT_STATE", "ARTENIC_URL", "ARTENIC_API_KEY", "ARTENIC_TIMEOUT"):
        env.pop(name, None)
    entry = "from artenic_opt.cli.main import artenic_main; artenic_main()"

    def artenic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", entry, "optimizer", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    status = artenic("--state", str(state), "status", "--json")
    assert status.returncode == 0, status.stderr
    assert f'"state_path": "{state}"' in status.stdout
    # A port nothing listens on: the flag's URL is the one tried (exit 3), not "no platform".
    sync = artenic("--url", "http://127.0.0.1:9", "--timeout", "0.2", "--state", str(state), "sync")
    assert sync.returncode == 3, sync.stderr
    assert "platform http://127.0.0.1:9 unreachable" in sync.stderr


def test_a_name_the_terminal_cannot_encode_is_escaped_not_fatal(tmp_path: Path) -> None:
    """Under an ASCII (or Latin-1) stdout, text in another script prints as escapes, exit 0."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "ARTENIC_OPT_STATE": str(tmp_path / "s.db")}
    args = ["--params", "7B", "--dataset-gb", "10", "--top", "1", "--name", "日本語"]
    run = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "recommend", *args],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert b"\\u65e5\\u672c\\u8a9e" in run.stdout
    assert b"internal error" not in run.stderr
