"""Start-up work that issue 16 made lazy stays lazy (bench/bench_startup.py has the timings).

``test_layers.py`` keeps heavy libraries out of ``--help`` and ``recommend``; these tests pin the
cheaper set-up of our own modules, so a later import cannot bring the cost back unnoticed:

* ``recommend`` builds neither the storage schemas nor the feedback/retrain result documents
  (``schemas.results`` pulls ``schemas.storage``, about 30 pydantic models), and loads neither
  the architecture table (for a workload naming no model), the ``catalog import`` reader, nor
  ``numpy.char``;
* ``--help`` imports neither pydantic, the workspace nor ``json`` (they load when a command runs
  or prints JSON; pydantic alone was about 40 modules and a third of ``--help``);
* no command loads platformdirs when every path is given (``--state``, the environment
  variables);
* a command line naming a command builds only that command (Typer converts every registered
  function of a module into a Click command before running one), with the same ``--help``;
* the Typer command functions carry evaluated annotations, not strings: Typer reads every
  signature three times while building the tree, and re-evaluates string annotations (every
  ``Annotated[..., typer.Option(...)]``) each time;
* ``recommend --json`` (on an existing state) builds Typer's pydantic adapters only for the
  values given, and loads neither the table code, the history, feedback, status or
  catalog-upkeep models, the platform mirror's records, the catalog listing helpers,
  ``importlib.resources``/``zipfile`` nor, through pydantic's plugin loader,
  ``importlib.metadata``/``email``; its process starts no OpenBLAS worker thread.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from artenic_opt.cli.main import COMMAND_MODULES, build_app, command_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _modules_after_command(args: list[str]) -> set[str]:
    """``sys.modules`` after running ``artenic-opt ARGS`` in a fresh interpreter (exit 0)."""
    code = (
        "import sys\nfrom artenic_opt.cli.main import build_app, modules_for\n"
        f"args = {args!r}\n"
        "app = build_app(modules_for(args))\n"
        "try:\n    app(args, prog_name='artenic-opt')\nexcept SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "loaded = sorted(sys.modules)\nimport json\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
    )
    # Without coverage's subprocess hook, which imports json and more on its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COV_CORE_"))}
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stderr
    return set(json.loads(err.strip().splitlines()[-1]))


def _command_process(args: list[str], extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``main()`` (the console script) on ARGS; what its process loaded and set, at exit."""
    code = (
        "import atexit, json, os, sys\n"
        "def report():\n"
        "    loader = sys.modules.get('pydantic.plugin._loader')\n"
        "    doc = {'modules': sorted(sys.modules), 'env': dict(os.environ),\n"
        "           'loader_file': getattr(loader, '__file__', None)}\n"
        "    print(json.dumps(doc), file=sys.stderr)\n"
        "atexit.register(report)\n"
        f"sys.argv = ['artenic-opt', *{args!r}]\n"
        "from artenic_opt.cli.main import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COV_CORE_"))}
    for name in ("PYDANTIC_DISABLE_PLUGINS", "OPENBLAS_NUM_THREADS"):
        env.pop(name, None)
    env.update(extra_env or {})
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return doc


def _recommend_args(tmp_path: Path) -> list[str]:
    args = ["--state", str(tmp_path / "s.db"), "recommend"]
    return [*args, "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--json"]


def test_a_command_looks_for_no_pydantic_plugin_and_starts_no_blas_thread(tmp_path: Path) -> None:
    _command_process(_recommend_args(tmp_path))  # creates the state (migrations load more)
    doc = _command_process(_recommend_args(tmp_path))
    assert "pydantic" in doc["modules"]  # validators were built
    assert doc["loader_file"] is None  # the stand-in, not pydantic's module
    for name in ("importlib.metadata", "email"):
        assert name not in doc["modules"], f"recommend imported {name}"
    # Shipped data files are read through their package's loader (``_internal.files``).
    for name in ("importlib.resources", "zipfile", "tempfile"):
        assert name not in doc["modules"], f"recommend imported {name}"
    assert doc["env"]["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    assert doc["env"]["OPENBLAS_NUM_THREADS"] == "1"


def test_plugins_and_blas_threads_the_user_asks_for_are_kept(tmp_path: Path) -> None:
    env = {"PYDANTIC_DISABLE_PLUGINS": "", "OPENBLAS_NUM_THREADS": "2"}
    doc = _command_process(_recommend_args(tmp_path), env)
    assert doc["loader_file"] is not None and doc["loader_file"].endswith("_loader.py")
    assert doc["env"]["PYDANTIC_DISABLE_PLUGINS"] == ""
    assert doc["env"]["OPENBLAS_NUM_THREADS"] == "2"


def test_pydantic_needs_only_get_plugins_of_its_plugin_loader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stand-in for ``pydantic.plugin._loader`` has what pydantic imports from it."""
    import ast
    import importlib

    import pydantic
    import pydantic.plugin._loader as real_loader

    from artenic_opt.cli.main import NO_PYDANTIC_PLUGINS, _no_pydantic_plugins

    imported: set[str] = set()
    for path in Path(pydantic.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_loader"):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Attribute) and node.attr == "_loader":
                imported.add("<the module itself>")
    assert imported == {"get_plugins"}
    for value in NO_PYDANTIC_PLUGINS:
        monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", value)
        assert tuple(importlib.reload(real_loader).get_plugins()) == _no_pydantic_plugins()


def test_the_plugin_loader_stand_in_defers_unknown_names_to_the_real_loader() -> None:
    # A later pydantic that asks the loader for another name gets the real module's answer.
    code = (
        "import os, sys\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'\n"
        "from artenic_opt.cli.main import PYDANTIC_PLUGIN_LOADER, _skip_pydantic_plugin_loader\n"
        "_skip_pydantic_plugin_loader()\n"
        "stand_in = sys.modules[PYDANTIC_PLUGIN_LOADER]\n"
        "assert getattr(stand_in, '__file__', None) is None\n"
        "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP\n"
        "real = sys.modules[PYDANTIC_PLUGIN_LOADER]\n"
        "assert real is not stand_in and real.__file__.endswith('_loader.py')\n"
        "assert PYDANTIC_ENTRY_POINT_GROUP == real.PYDANTIC_ENTRY_POINT_GROUP\n"
        "import pydantic\n"
        "class M(pydantic.BaseModel):\n"
        "    x: int\n"
        "assert M(x='3').x == 3\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COV_CORE_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_recommend_builds_no_storage_or_result_schemas(tmp_path: Path) -> None:
    args = ["--state", str(tmp_path / "s.db"), "recommend"]
    args += ["--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--json"]
    loaded = _modules_after_command(args)
    assert "artenic_opt.services.training" in loaded  # the command really ran
    lazy = (
        "artenic_opt.schemas.results",
        "artenic_opt.schemas.storage",
        "artenic_opt.schemas.feedback",  # outcomes and model versions: none is read or built
        "artenic_opt.schemas.status",
        "artenic_opt.schemas.catalog",
        "artenic_opt.estimate.architectures",  # the workload names no model
        "artenic_opt.catalog.importer",
        "artenic_opt.catalog.queries",  # catalog list/gpus only
        "platformdirs",
        "numpy.char",
        "artenic_opt.cli.tables",  # --json draws no table
        "artenic_opt.state.history_records",  # recommend reads no history back
        "artenic_opt.state.platform_records",  # nor the platform mirror's records and queries
        "artenic_opt.state.budgets",
        "artenic_opt.state.datasets",
        "artenic_opt.state.sync_runs",
    )
    for name in lazy:
        assert name not in loaded, f"recommend imported {name}"


def test_help_builds_no_schemas(tmp_path: Path) -> None:
    loaded = _modules_after_command(["--state", str(tmp_path / "s.db"), "--help"])
    assert "artenic_opt.cli.training" in loaded  # the whole tree was built
    for name in ("artenic_opt.schemas", "artenic_opt.services.training", "artenic_opt.workspace"):
        assert name not in loaded, f"--help imported {name}"
    # Typer builds its pydantic adapters only to convert values; --help converts none.
    for name in ("pydantic", "pydantic_core", "json"):
        assert name not in loaded, f"--help imported {name}"


def _command_functions(app: typer.Typer) -> Iterator[Callable[..., Any]]:
    if app.registered_callback is not None and app.registered_callback.callback is not None:
        yield app.registered_callback.callback
    for command in app.registered_commands:
        assert command.callback is not None
        yield command.callback
    for group in app.registered_groups:
        assert group.typer_instance is not None
        yield from _command_functions(group.typer_instance)


def test_command_signatures_hold_evaluated_annotations() -> None:
    functions = list(_command_functions(build_app()))
    assert len(functions) > 20  # every command module is registered
    for function in functions:
        strings = {
            name: annotation
            for name, annotation in inspect.signature(function).parameters.items()
            if isinstance(annotation.annotation, str)
        }
        assert not strings, (
            f"{function.__module__}.{function.__qualname__} has string annotations {strings}: "
            "drop 'from __future__ import annotations' from its module (cli/main.py says why)"
        )


def test_command_process_collects_young_garbage_in_larger_batches() -> None:
    """``main()`` raises the young-generation threshold; importing the CLI does not."""
    code = (
        "import atexit, gc, sys\n"
        "from artenic_opt.cli import main as cli\n"
        "print(gc.get_threshold()[0], file=sys.stderr)\n"
        "atexit.register(lambda: print(gc.get_threshold()[0], file=sys.stderr))\n"
        "sys.argv = ['artenic-opt', '--version']\n"
        "cli.main()\n"
    )
    # Without coverage's subprocess hook, which imports json and more on its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COV_CORE_"))}
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stderr.split()
    from artenic_opt.cli.main import GC_YOUNG_THRESHOLD

    assert err[0] != str(GC_YOUNG_THRESHOLD)  # the interpreter's default until main() runs
    assert err[-1] == str(GC_YOUNG_THRESHOLD)


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module, names in COMMAND_MODULES.items() for name in names],
)
def test_a_named_command_builds_alone_with_the_same_help(module: str, name: str) -> None:
    assert command_for(["--state", "s.db", name, "--help"]) == name
    alone = typer.main.get_command(build_app([module], command=name))
    assert list(alone.commands) == [name]  # type: ignore[attr-defined]
    runner = CliRunner()
    whole = runner.invoke(build_app([module]), [name, "--help"], prog_name="artenic-opt")
    single = runner.invoke(
        build_app([module], command=name), [name, "--help"], prog_name="artenic-opt"
    )
    assert single.exit_code == whole.exit_code == 0
    assert single.output == whole.output


def test_an_unknown_command_keeps_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("_ARTENIC_OPT_COMPLETE", raising=False)
    assert command_for(["recomend"]) is None  # Click suggests the right name from every command
    assert command_for(["--help"]) is None
    group = typer.main.get_command(build_app(["training"], command="nope"))
    assert set(group.commands) == set(COMMAND_MODULES["training"])  # type: ignore[attr-defined]


def test_catalog_import_reader_loads_on_first_use() -> None:
    import artenic_opt.catalog as catalog
    from artenic_opt.catalog.importer import parse_offerings_file

    assert catalog.parse_offerings_file is parse_offerings_file
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = catalog.nope  # type: ignore[attr-defined]


def test_value_converters_are_built_only_for_values_given() -> None:
    """Typer's pydantic adapters are built for the values a command line gives, not the rest."""
    from typer.core import _TyperParameter

    from artenic_opt.cli.errors import DeferredRuntimeParam, defer_value_converters

    def recommend() -> Any:
        group = typer.main.get_command(build_app(["training"], command="recommend"))
        return group, group.commands["recommend"]  # type: ignore[attr-defined]

    args = ["--top", "3", "--provider", "aws", "--workload", str(EXAMPLES / "llm-lora-7b.toml")]
    group, deferred = recommend()
    defer_value_converters(group)
    params = [p for p in deferred.params if isinstance(p, _TyperParameter)]
    assert len(params) > 40
    assert all(isinstance(p._runtime_param, DeferredRuntimeParam) for p in params)
    values = deferred.make_context("recommend", list(args)).params
    assert values == recommend()[1].make_context("recommend", list(args)).params  # as Typer's
    assert values["top"] == 3 and values["provider"] == ["aws"] and values["budget"] is None
    built = {p.name for p in params if not isinstance(p._runtime_param, DeferredRuntimeParam)}
    # Given on the command line, or a default that is not None (--rank 1).
    assert built == {"top", "provider", "workload_file", "dispatch_rank"}


def test_a_bad_value_of_a_deferred_parameter_is_still_a_usage_error(tmp_path: Path) -> None:
    app = build_app(["training"], command="recommend")
    args = ["--state", str(tmp_path / "s.db"), "recommend", "--top", "many", "--json"]
    result = CliRunner().invoke(app, args, prog_name="artenic-opt")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "usage_error"
    assert "--top" in error["message"]


def test_the_plugin_loader_stand_in_is_installed_only_when_plugins_are_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    from artenic_opt.cli import main as cli

    monkeypatch.delitem(sys.modules, cli.PYDANTIC_PLUGIN_LOADER, raising=False)
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")  # the user switched plugins on
    cli._skip_pydantic_plugin_loader()
    assert cli.PYDANTIC_PLUGIN_LOADER not in sys.modules
    real = types.ModuleType(cli.PYDANTIC_PLUGIN_LOADER)
    monkeypatch.setitem(sys.modules, cli.PYDANTIC_PLUGIN_LOADER, real)
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")
    cli._skip_pydantic_plugin_loader()
    assert sys.modules[cli.PYDANTIC_PLUGIN_LOADER] is real  # a loaded module is kept
    monkeypatch.delitem(sys.modules, cli.PYDANTIC_PLUGIN_LOADER)
    cli._skip_pydantic_plugin_loader()
    stand_in = sys.modules[cli.PYDANTIC_PLUGIN_LOADER]
    assert stand_in is not real and tuple(stand_in.get_plugins()) == ()


def test_a_deferred_converter_converts_like_typers_own() -> None:
    from typer.core import _TyperParameter

    from artenic_opt.cli.errors import DeferredRuntimeParam, defer_value_converters

    group = typer.main.get_command(build_app(["training"], command="recommend"))
    defer_value_converters(group)
    recommend = group.commands["recommend"]  # type: ignore[attr-defined]
    top = next(p for p in recommend.params if p.name == "top")
    assert isinstance(top, _TyperParameter)
    deferred = top._runtime_param
    assert isinstance(deferred, DeferredRuntimeParam)
    ctx = recommend.make_context("recommend", [])
    assert deferred._coerce_value("7", top, ctx) == 7
    assert not isinstance(top._runtime_param, DeferredRuntimeParam)  # Typer's own from now on


def test_every_lazy_state_name_resolves_and_is_listed() -> None:
    import importlib

    import artenic_opt.state as state

    for name, module in state._LAZY.items():
        defining = importlib.import_module(f"artenic_opt.state.{module}")
        assert getattr(state, name) is getattr(defining, name)
        assert name in dir(state) and name in state.__all__
    with pytest.raises(AttributeError, match="no_such_function"):
        _ = state.no_such_function
