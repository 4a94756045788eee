"""``services.training.retrain``: one model version per retrain request, even when a request
reaches the retrain lock only after another retrain that was running when it arrived.

Real SQLite state (a small demo history), real LightGBM, the real lock file; the serve worker on
the same state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from artenic_opt.serve.retrain import RetrainWorker
from artenic_opt.services.demo import build_demo_state
from artenic_opt.services.training import delete_outcome, retrain
from artenic_opt.state import list_model_versions, next_model_version
from artenic_opt.state.locks import retrain_lock
from artenic_opt.workspace import Workspace, WorkspaceOptions

WAITED = "another retrain finished while this one waited"


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(WorkspaceOptions(state=tmp_path / "state.db"))
    build_demo_state(ws.store(), ws.catalog(), ws.settings, ws.rates(), jobs=60, seed=4)
    try:
        yield ws
    finally:
        ws.close()


def arrival(ws: Workspace) -> int:
    """What a route or command takes on entry: the newest recorded model version."""
    return next_model_version(ws.store()) - 1


def test_a_model_recorded_after_the_arrival_on_the_same_samples_is_the_answer(
    workspace: Workspace,
) -> None:
    store, settings = workspace.store(), workspace.settings
    arrived = arrival(workspace)
    other = retrain(store, settings, force=True)  # ran while this request waited
    assert other.trained and other.model is not None and other.model.version == arrived + 1
    late = retrain(store, settings, force=True, known_version=arrived)
    assert not late.trained
    assert late.reason.startswith(WAITED) and f"v{other.model.version}" in late.reason
    assert late.model == other.model and late.samples == other.samples
    assert len(list_model_versions(store)) == arrived + 1


def test_a_model_recorded_before_the_arrival_does_not_stop_a_forced_retrain(
    workspace: Workspace,
) -> None:
    store, settings = workspace.store(), workspace.settings
    first = retrain(store, settings, force=True)
    assert first.trained and first.model is not None
    arrived = arrival(workspace)  # issued after the previous retrain finished
    again = retrain(store, settings, force=True, known_version=arrived)
    assert again.trained and again.model is not None
    assert again.model.version == first.model.version + 1
    # Without the force, the usual "too few new samples" rule answers, not the waiting one.
    plain = retrain(store, settings, known_version=arrival(workspace))
    assert not plain.trained and "new samples" in plain.reason


def test_a_newer_model_on_other_samples_does_not_stop_it(workspace: Workspace) -> None:
    store, settings = workspace.store(), workspace.settings
    arrived = arrival(workspace)
    other = retrain(store, settings, force=True)
    assert other.trained and other.model is not None
    assert delete_outcome(store, 1).training_samples_deleted == 1  # the samples changed since
    late = retrain(store, settings, force=True, known_version=arrived)
    assert late.trained and late.model is not None
    assert late.model.version == other.model.version + 1
    assert late.samples == other.samples - 1


def test_a_retrain_holding_the_lock_is_joined_not_repeated(workspace: Workspace) -> None:
    store, settings = workspace.store(), workspace.settings
    before = arrival(workspace)
    with retrain_lock(Path(store.path)) as held:  # another process's retrain, in training
        assert held
        busy = retrain(store, settings, force=True, known_version=before)
    assert not busy.trained and "is running" in busy.reason
    assert arrival(workspace) == before


def test_the_worker_answers_each_request_with_its_own_job(workspace: Workspace) -> None:
    worker = RetrainWorker(workspace)
    arrived = arrival(workspace)
    first, started = worker.start(force=True, known_version=arrived)
    assert started
    done = worker.wait(first.job_id, timeout_s=120)
    assert done is not None and done.state == "succeeded" and done.result is not None
    assert done.result.trained
    # Arrived with the first one, started only once it had finished: its model, untrained.
    late, started = worker.start(force=True, known_version=arrived)
    assert started and late.job_id != first.job_id
    # The first job's document stays available to a request still waiting on it.
    assert worker.wait(first.job_id, timeout_s=0) == done
    answer = worker.wait(late.job_id, timeout_s=120)
    assert answer is not None and answer.result is not None
    assert not answer.result.trained and answer.result.reason.startswith(WAITED)
    assert answer.result.model == done.result.model
    assert worker.wait("no-such-job", timeout_s=0) is None
    assert worker.join(120)
