"""The one place where exceptions become exit codes and error lines.

Every ``ArtenicOptError`` prints ``error: <message>`` on stderr (and, with ``--json``, the
document ``{"error": {"code", "exit_code", "message"}}`` on stdout) and exits with its code.
Anything else is a bug: exit 1 with a one-line message; ``ARTENIC_OPT_DEBUG=1`` shows the
traceback.

Decisions:

* Argument-parsing errors (unknown option, invalid value, missing argument) are bad usage like any
  other: one ``error: ...`` line on stderr naming the help command, exit 2, and the JSON error
  document on stdout when ``--json`` appears anywhere on the command line before ``--``. The
  command line is scanned for ``--json`` by ``MappedGroup.main`` before Click parses anything,
  because a parse error happens before the option's callback could run.
* Typer builds a pydantic ``TypeAdapter`` for a parameter the first time it converts a value,
  and it converts every parameter's value, ``None`` included, although a ``None`` never reaches
  the adapter. ``MappedGroup.main`` gives every parameter of the tree a ``DeferredRuntimeParam``
  that answers ``None`` as Typer does and builds Typer's own converter for the first real
  value: ``recommend`` builds about 4 adapters instead of 48.
* A ``RecursionError`` while a command runs comes from reading input nested deeper than Python's
  parsers can follow (JSON and TOML readers are recursive); it is bad input (exit 2), not a bug.
  Readers that know the file name say so themselves (``_internal.parsing``); this is the net for
  the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer

# Typer ships its own copy of Click (``typer._click``); its parse errors are these classes, not
# those of a separately installed ``click``.
from typer._click.core import Command, Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import TyperGroup, _TyperParameter

from artenic_opt.cli.output import (
    error_line,
    json_mode,
    print_json,
    reset_json_mode,
    set_json_mode,
)
from artenic_opt.errors import ArtenicOptError, ExitCode


def report_error(code: str, exit_code: int, message: str) -> None:
    if json_mode():
        print_json({"error": {"code": code, "exit_code": exit_code, "message": message}})
    error_line(message)


def json_requested(args: Sequence[str]) -> bool:
    """Whether ``--json`` is on the command line (before a ``--`` that ends the options)."""
    options = args[: list(args).index("--")] if "--" in args else args
    return "--json" in options


def report_usage_error(exc: ClickException) -> int:
    """One line (plus the JSON document with ``--json``) for an argument-parsing error."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and isinstance(exc, UsageError):
        message = f"{message} (see '{ctx.command_path} --help')"
    message = " ".join(message.split())  # Click messages may span lines
    code = int(ExitCode.USAGE)
    report_error("usage_error", code, message)
    return code


def _is_help_request(exc: ClickException) -> bool:
    # ``no_args_is_help`` groups raise this to print their help (exit 2, by Click's choice).
    return isinstance(exc, NoArgsIsHelpError)


class DeferredRuntimeParam(RuntimeParam):
    """Typer's value converter of one parameter, built at its first value that is not ``None``.

    ``RuntimeParam.coerce`` answers ``None`` (``()`` for a multi-value parameter) without its
    converter, so answering it here before building one changes nothing but the cost.
    """

    def coerce(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        if value is None:
            return super().coerce(value, param=param, ctx=ctx)
        return self._built(param).coerce(value, param=param, ctx=ctx)

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        return self._built(param)._coerce_value(value, param=param, ctx=ctx)

    @staticmethod
    def _built(param: _TyperParameter) -> RuntimeParam:
        """Typer's own converter, which replaces this one on ``param``."""
        runtime = build_runtime_param(param.type_descriptor)
        param._runtime_param = runtime
        return runtime


def defer_value_converters(command: Command) -> None:
    """Give every Typer parameter of ``command``'s tree a ``DeferredRuntimeParam``."""
    for param in command.params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            desc = param.type_descriptor
            param._runtime_param = DeferredRuntimeParam(
                parameter_info=desc.parameter_info, annotation=desc.annotation
            )
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            defer_value_converters(sub)


class MappedGroup(TyperGroup):
    """A Typer group whose invocation maps library errors to the documented exit codes."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        defer_value_converters(self)
        argv = list(sys.argv[1:] if args is None else args)
        if json_requested(argv):
            set_json_mode()
        try:
            return super().main(argv, *rest, **extra)
        finally:
            reset_json_mode()

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except ClickException as exc:
            if _is_help_request(exc):
                raise
            raise typer.Exit(report_usage_error(exc)) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ArtenicOptError as exc:
            report_error(exc.code, int(exc.exit_code), exc.message)
            raise typer.Exit(int(exc.exit_code)) from None
        except ClickException as exc:  # before TyperException, its base class
            if _is_help_request(exc):
                raise
            raise typer.Exit(report_usage_error(exc)) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except RecursionError:
            if os.environ.get("ARTENIC_OPT_DEBUG"):
                raise
            report_error(
                "invalid_input",
                int(ExitCode.USAGE),
                "input nested too deeply to read (a JSON or TOML document with thousands of "
                "nested levels)",
            )
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            if os.environ.get("ARTENIC_OPT_DEBUG"):
                raise
            name = type(exc).__name__
            # One line, whatever the exception's text: a pydantic error spans several.
            detail = " ".join(str(exc).split())
            if len(detail) > 300:
                detail = detail[:299] + "\u2026"
            report_error(
                "internal_error",
                int(ExitCode.INTERNAL),
                f"internal error ({name}: {detail}); set ARTENIC_OPT_DEBUG=1 for the traceback",
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        finally:
            reset_json_mode()
