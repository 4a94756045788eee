"""Use cases shared by the CLI, the dashboard and ``serve``: load from the state and catalog, call
a pillar, store what must be stored.

The pillars stay pure (schemas and arrays in, schemas out); these functions are the one place
that wires them to the state store, so the terminal table, the JSON output and the dashboard
always show the same numbers.

Calling convention (one for every service):

* A service takes **the parts it uses, explicitly, in this order**: ``store`` (an open
  ``StateStore``) when it reads or writes the state, then ``catalog``, ``settings``, ``rates``,
  then its own arguments, keyword-only where they are options. It never takes a ``Workspace``:
  the caller (CLI, TUI, ``serve``) owns the workspace, chooses read-only or not, and passes its
  parts (``workspace.store()``, ``workspace.catalog()``, ``workspace.settings``,
  ``workspace.rates()``). So a signature says which parts a use case touches, and a test calls it
  with plain objects.
* What a service returns for ``--json`` is a model of ``artenic_opt.schemas``.
"""
