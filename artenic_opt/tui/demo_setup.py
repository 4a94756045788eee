"""``dashboard --demo``: a simulated history in a throwaway state, opened read-only.

Decisions:

* The history is built by ``services.demo`` (the ``demo`` command's builder) in a temporary
  directory that is deleted when the provider closes, or at once if building fails.
* A fixed number of jobs and seed, so every machine shows the same demo.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from artenic_opt.services.demo import build_demo_state

# Everything the provider calls is imported here, on the thread that imports this module: the
# views' workers call the provider from several threads at once, and first imports racing in
# threads through the state package's circular imports can meet half-initialised modules.
from artenic_opt.workspace import Workspace, WorkspaceOptions

if TYPE_CHECKING:
    pass
from artenic_opt.tui.data import StateDashboardData

#: Simulated jobs and seed of ``dashboard --demo``: enough history for every view (a trained
#: model included), built in seconds, and the same history on every machine.
DEMO_JOBS = 120
DEMO_SEED = 7


def open_demo_data(
    *, jobs: int = DEMO_JOBS, seed: int = DEMO_SEED, now: datetime | None = None
) -> StateDashboardData:
    """Build a simulated history (``services.demo``, the ``demo`` command's builder) in a
    temporary directory and open it read-only.

    The directory, and the state in it, is deleted when the returned provider is closed, or at
    once if building fails. The provider's clock is the one the history was dated with.
    """
    clock = now or datetime.now(UTC)
    workdir = tempfile.TemporaryDirectory(prefix="artenic-opt-demo-")
    path = Path(workdir.name) / "state.db"
    try:
        builder = Workspace(WorkspaceOptions(state=path))
        try:
            build_demo_state(
                builder.store(),
                builder.catalog(),
                builder.settings,
                builder.rates(),
                jobs=jobs,
                seed=seed,
                now=clock,
            )
        finally:
            builder.close()
    except BaseException:
        workdir.cleanup()
        raise
    return StateDashboardData(
        Workspace(WorkspaceOptions(state=path), read_only=True),
        source=f"demo: {jobs} simulated jobs, seed {seed}",
        now=clock,
        on_close=workdir.cleanup,
    )
