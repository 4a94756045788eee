"""The one place where exceptions become exit codes and error lines.

Every ``ArtenicOptError`` prints ``error: <message>`` on stderr (and, with ``--json``, the
document ``{"error": {"code", "exit_code", "message"}}`` on stdout) and exits with its code.
Anything else is a bug: exit 1 with a one-line message; ``ARTENIC_OPT_DEBUG=1`` shows the
traceback.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup

from artenic_opt.cli.output import error_line, json_mode, print_json, reset_json_mode
from artenic_opt.errors import ArtenicOptError, ExitCode


def report_error(code: str, exit_code: int, message: str) -> None:
    if json_mode():
        print_json({"error": {"code": code, "exit_code": exit_code, "message": message}})
    error_line(message)


class MappedGroup(TyperGroup):
    """A Typer group whose invocation maps library errors to the documented exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ArtenicOptError as exc:
            report_error(exc.code, int(exc.exit_code), exc.message)
            raise typer.Exit(int(exc.exit_code)) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            if os.environ.get("ARTENIC_OPT_DEBUG"):
                raise
            name = type(exc).__name__
            report_error(
                "internal_error",
                int(ExitCode.INTERNAL),
                f"internal error ({name}: {exc}); set ARTENIC_OPT_DEBUG=1 for the traceback",
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        finally:
            reset_json_mode()
