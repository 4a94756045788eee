"""The simulated world: determinism, failure modes and the quirks the estimator does not know."""

from __future__ import annotations

from datetime import date

import pytest

from artenic_opt.catalog import CANONICAL_GPU_TYPES
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import JobOutcome, Offering, WorkloadProfile
from artenic_opt.simulate import RunSpec, SimulatedOutcome, World, _physics as phys
from artenic_opt.types import (
    FailureReason,
    FineTuning,
    JobStatus,
    ModelFramework,
    OutcomeSource,
    Precision,
)


def offering(
    provider: str = "AWS",
    gpu_type: str | None = "A100 80GB",
    gpu_count: int = 1,
    gpu_memory_gb: float | None = 80.0,
    price: float = 4.0,
    spot: float | None = 1.5,
    vcpus: int = 16,
    memory_gb: float = 128.0,
    currency: str = "USD",
    instance_type: str | None = None,
) -> Offering:
    return Offering(
        provider=provider,
        region="r1",
        instance_type=instance_type or f"{gpu_type or 'cpu'}x{gpu_count}",
        vcpus=vcpus,
        memory_gb=memory_gb,
        gpu_type=gpu_type if gpu_count else None,
        gpu_count=gpu_count,
        gpu_memory_gb=gpu_memory_gb if gpu_count else None,
        price_per_hour=price,
        spot_price_per_hour=spot,
        currency=currency,
        source="test",
        price_date=date(2025, 1, 1),
    )


def cpu_offering(provider: str = "AWS", vcpus: int = 16, memory_gb: float = 64.0) -> Offering:
    return offering(
        provider=provider, gpu_type=None, gpu_count=0, vcpus=vcpus, memory_gb=memory_gb, price=0.8
    )


LORA_7B = WorkloadProfile(
    name="lora-7b",
    framework=ModelFramework.TRANSFORMERS,
    model_params_m=7000,
    dataset_size_gb=0.2,
    tokens=5e7,
    fine_tuning=FineTuning.LORA,
    gradient_checkpointing=True,
    batch_size=4,
)
FULL_70B = WorkloadProfile(
    name="full-70b", model_params_m=70000, dataset_size_gb=1.0, tokens=1e8, batch_size=1
)
GBDT = WorkloadProfile(
    name="gbdt",
    framework=ModelFramework.LIGHTGBM,
    model_params_m=0.1,
    dataset_size_gb=4.0,
    precision=Precision.FP32,
    gpu_required=False,
)


def test_run_is_deterministic_for_a_seed_and_independent_of_call_order() -> None:
    a100 = offering()
    l4 = offering(gpu_type="L4", gpu_memory_gb=24, price=0.8, spot=0.3)
    first = World(7)
    x1 = first.run(LORA_7B, a100, spot=True)
    y1 = first.run(LORA_7B, l4)
    second = World(7)
    y2 = second.run(LORA_7B, l4)
    x2 = second.run(LORA_7B, a100, spot=True)
    assert (x1, y1) == (x2, y2)


def test_trial_and_seed_change_the_noise() -> None:
    world = World(1)
    runs = {world.run(LORA_7B, offering(), trial=t).hours for t in range(5)}
    assert len(runs) == 5
    assert World(1).provider_profile("RunPod") != World(2).provider_profile("RunPod")


def test_bad_arguments_are_rejected_with_the_field_named() -> None:
    world = World(0)
    with pytest.raises(InvalidInputError, match="nodes"):
        world.run(LORA_7B, offering(), nodes=0)
    with pytest.raises(InvalidInputError, match="not sold as spot"):
        world.run(LORA_7B, offering(spot=None), spot=True)
    with pytest.raises(InvalidInputError, match="seed"):
        World(-1)


def test_out_of_memory_when_the_true_need_exceeds_the_gpu() -> None:
    world = World(3)
    small = offering(gpu_type="L4", gpu_memory_gb=24, price=0.8)
    outcome = world.run(FULL_70B, small)
    assert outcome.status is JobStatus.FAILED
    assert outcome.failure_reason is FailureReason.OUT_OF_MEMORY
    assert outcome.memory_needed_gb > outcome.memory_available_gb
    assert outcome.hours < 0.5  # fails within minutes, but is paid for
    assert outcome.cost == pytest.approx(outcome.hours * 0.8)
    assert outcome.metric_before is None and outcome.metric_after is None
    expected = world.expected(FULL_70B, small)
    assert not expected.runnable and expected.success_probability == 0.0
    assert expected.failure_mode is FailureReason.OUT_OF_MEMORY


def test_lora_fits_where_a_full_fine_tune_of_the_same_model_does_not() -> None:
    world = World(3)
    a10 = offering(gpu_type="A10G", gpu_memory_gb=24, price=1.0)
    full = LORA_7B.model_copy(update={"fine_tuning": FineTuning.FULL})
    assert world.expected(LORA_7B, a10).runnable
    assert not world.expected(full, a10).runnable


def test_distributed_jobs_shard_model_state_over_every_gpu() -> None:
    world = World(0)
    eight = offering(gpu_type="H100 SXM", gpu_count=8, price=30.0)
    sharded = FULL_70B.model_copy(
        update={
            "distributed": True,
            "num_workers": 8,
            "max_nodes": 4,
            "gradient_checkpointing": True,
        }
    )
    replicated = FULL_70B.model_copy(update={"gradient_checkpointing": True})
    assert (
        world.memory_needed_gb(sharded, eight, 4) < world.memory_needed_gb(replicated, eight) / 20
    )
    # 70B x 16 bytes of model state does not fit 8 x 80 GB even sharded, but does over 4 nodes.
    assert not world.expected(sharded, eight, 1).runnable
    assert world.expected(sharded, eight, 4).runnable
    assert not world.expected(replicated, eight, 4).runnable


def test_a_gpu_job_on_a_cpu_machine_fails_at_start() -> None:
    outcome = World(0).run(LORA_7B, cpu_offering())
    assert outcome.status is JobStatus.FAILED
    assert outcome.failure_reason is FailureReason.USER_ERROR


def test_cpu_bound_jobs_need_host_memory_for_their_data() -> None:
    world = World(0)
    big = GBDT.model_copy(update={"dataset_size_gb": 100.0})
    outcome = world.run(big, cpu_offering(memory_gb=64))
    assert outcome.failure_reason is FailureReason.OUT_OF_MEMORY
    assert world.run(GBDT, cpu_offering(memory_gb=64)).status is JobStatus.COMPLETED


def test_cpu_bound_jobs_scale_sub_linearly_with_vcpus() -> None:
    world = World(0)
    small = world.expected(GBDT, cpu_offering(vcpus=8)).hours
    large = world.expected(GBDT, cpu_offering(vcpus=64)).hours
    assert small / 8 < large < small / 2


def test_small_neural_nets_can_train_on_cpu_when_no_gpu_is_required() -> None:
    tiny = WorkloadProfile(
        name="tiny-mlp", model_params_m=1.0, dataset_size_gb=0.5, gpu_required=False
    )
    outcome = World(0).run(tiny, cpu_offering())
    assert outcome.status is JobStatus.COMPLETED


def test_preemptions_happen_only_on_spot() -> None:
    world = World(5)
    runpod = offering(provider="RunPod", price=2.0, spot=0.9)
    long_job = LORA_7B.model_copy(update={"num_epochs": 20})
    on_demand = [world.run(long_job, runpod, trial=t) for t in range(30)]
    spot = [world.run(long_job, runpod, spot=True, trial=t) for t in range(30)]
    assert all(o.preemptions == 0 for o in on_demand)
    assert sum(o.preemptions for o in spot) > 0


def test_spot_without_checkpointing_fails_more_often() -> None:
    world = World(11)
    runpod = offering(provider="RunPod", price=2.0, spot=0.9)
    job = LORA_7B.model_copy(update={"num_epochs": 10})
    fragile = job.model_copy(update={"checkpointing": False})
    with_ckpt = [world.run(job, runpod, spot=True, trial=t) for t in range(60)]
    without = [world.run(fragile, runpod, spot=True, trial=t) for t in range(60)]
    failed_with = sum(o.status is not JobStatus.COMPLETED for o in with_ckpt)
    failed_without = sum(o.status is not JobStatus.COMPLETED for o in without)
    assert failed_without > failed_with + 10
    assert any(o.status is JobStatus.PREEMPTED for o in without)
    assert all(
        o.failure_reason is FailureReason.PREEMPTED
        for o in without
        if o.status is JobStatus.PREEMPTED
    )
    assert world.expected(fragile, runpod, spot=True).success_probability < (
        world.expected(job, runpod, spot=True).success_probability
    )


def test_spot_retries_cost_time_and_are_paid_for() -> None:
    world = World(2)
    runpod = offering(provider="RunPod", price=2.0, spot=0.9)
    job = LORA_7B.model_copy(update={"num_epochs": 20, "checkpoint_interval_hours": 2.0})
    interrupted = [
        o
        for o in (world.run(job, runpod, spot=True, trial=t) for t in range(40))
        if o.preemptions > 0 and o.succeeded
    ]
    assert interrupted
    clean = world.expected(job, runpod).hours
    assert min(o.hours for o in interrupted) > clean * 0.9
    for o in interrupted:
        assert 0.9 * 0.9 * o.hours <= o.cost <= 1.1 * 0.9 * o.hours + 1e-9


def test_providers_differ_in_reliability() -> None:
    world = World(4)
    fragile = LORA_7B.model_copy(update={"num_epochs": 40, "checkpointing": False})
    vast = offering(provider="Vast.ai", price=1.5, spot=None)
    aws = offering(provider="AWS", price=4.0, spot=None)
    assert world.provider_profile("Vast.ai").fault_rate_per_node_hour > (
        world.provider_profile("AWS").fault_rate_per_node_hour
    )
    assert world.expected(fragile, vast).success_probability < (
        world.expected(fragile, aws).success_probability
    )
    faults = [world.run(fragile, vast, trial=t) for t in range(80)]
    assert any(o.failure_reason is FailureReason.PROVIDER_FAULT for o in faults)


def test_provider_profiles_are_case_insensitive_and_unknown_names_work() -> None:
    world = World(9)
    assert world.provider_profile("aws") == world.provider_profile(" AWS ")
    unknown = world.provider_profile("my-own-cluster")
    assert unknown.name == "my-own-cluster"
    assert 0 < unknown.fault_rate_per_node_hour < 0.05


def test_multi_node_penalty_depends_on_the_provider() -> None:
    world = World(0)
    job = WorkloadProfile(
        name="pretrain",
        model_params_m=1300,
        dataset_size_gb=40,
        tokens=1e10,
        distributed=True,
        num_workers=8,
        max_nodes=4,
    )

    def speedup(provider: str) -> float:
        node = offering(provider=provider, gpu_type="H100 SXM", gpu_count=8, price=30.0)
        one = world.expected(job, node, 1).hours
        four = world.expected(job, node, 4).hours
        return one / four

    assert 1.5 < speedup("AWS") < 4.0
    assert speedup("Vast.ai") < speedup("AWS")


def test_a_non_distributed_job_on_several_nodes_uses_one_and_pays_for_all() -> None:
    world = World(0)
    node = offering()
    one = world.expected(LORA_7B, node, 1)
    three = world.expected(LORA_7B, node, 3)
    assert three.hours == pytest.approx(one.hours, rel=0.05)
    assert three.price_per_hour == pytest.approx(3 * one.price_per_hour)


def test_real_efficiency_differs_from_spec_sheets_by_gpu_family() -> None:
    h100 = phys.gpu_family("H100 SXM")
    a100 = phys.gpu_family("A100 80GB")
    ratio = phys.sustained_tflops_per_gpu(LORA_7B, h100) / phys.sustained_tflops_per_gpu(
        LORA_7B, a100
    )
    assert ratio < h100.half_tflops / a100.half_tflops
    # No bf16 tensor cores: a bf16 job on a V100 runs at fp32 speed.
    v100 = phys.gpu_family("V100 16GB")
    fp16 = LORA_7B.model_copy(update={"precision": Precision.FP16})
    assert phys.sustained_tflops_per_gpu(LORA_7B, v100) < phys.sustained_tflops_per_gpu(fp16, v100)


def test_every_catalog_gpu_type_has_a_known_family() -> None:
    unknown = [name for name in CANONICAL_GPU_TYPES if phys.gpu_family(name).key == "unknown"]
    assert unknown == []
    assert phys.gpu_family(None).key == "unknown"
    assert phys.gpu_family("TPU v5e").key == "unknown"
    assert phys.gpu_family("L40S").key == "l40s"
    assert phys.gpu_family("RTX A4000").key == "rtxa4000"


def test_checkpoint_overhead_grows_with_model_size() -> None:
    world = World(0)
    node = offering(gpu_type="H100 SXM", gpu_count=8, gpu_memory_gb=80, price=30.0)

    def overhead(params_m: float) -> float:
        job = WorkloadProfile(
            name="full",
            model_params_m=params_m,
            dataset_size_gb=10,
            tokens=2e9,
            distributed=True,
            num_workers=8,
            gradient_checkpointing=True,
            batch_size=1,
        )
        with_ckpt = world.expected(job, node).hours
        without = world.expected(job.model_copy(update={"checkpointing": False}), node).hours
        return with_ckpt / without - 1.0

    assert overhead(13000) > overhead(1300) >= 0


def test_expected_hours_match_the_mean_of_noisy_runs() -> None:
    world = World(6)
    node = offering()
    runs = [world.run(LORA_7B, node, trial=t) for t in range(200)]
    done = [o.hours for o in runs if o.succeeded]
    assert len(done) > 190
    assert sum(done) / len(done) == pytest.approx(world.expected(LORA_7B, node).hours, rel=0.05)


def test_completed_runs_report_a_metric_change_owned_by_the_workload() -> None:
    world = World(8)
    a = world.run(LORA_7B, offering(), trial=0)
    b = world.run(LORA_7B, offering(gpu_type="H100 SXM", price=6.0), trial=1)
    assert a.metric_before == b.metric_before
    assert a.metric_before is not None and a.metric_after is not None
    assert a.metric_after >= a.metric_before * 0.98


def test_to_job_outcome_carries_the_simulated_result() -> None:
    outcome = World(0).run(LORA_7B, offering())
    job = outcome.to_job_outcome("rec-1", 2, job_id="sim-1")
    assert isinstance(job, JobOutcome)
    assert (job.recommendation_id, job.rank, job.job_id) == ("rec-1", 2, "sim-1")
    assert job.source is OutcomeSource.SIMULATOR
    assert (job.status, job.hours, job.cost) == (outcome.status, outcome.hours, outcome.cost)
    failed = World(0).run(FULL_70B, offering(gpu_type="L4", gpu_memory_gb=24))
    assert failed.to_job_outcome("rec-2", 1).failure_reason is FailureReason.OUT_OF_MEMORY


def test_outcomes_are_in_the_offering_currency() -> None:
    eur = offering(provider="OVHcloud", currency="EUR")
    outcome = World(0).run(LORA_7B, eur)
    assert isinstance(outcome, SimulatedOutcome)
    assert outcome.currency == "EUR"
    assert RunSpec(eur).nodes == 1 and RunSpec(eur).spot is False


def test_outcomes_convert_to_another_currency_with_an_explicit_rate() -> None:
    from artenic_opt._internal.money import ExchangeRates
    from artenic_opt.errors import CurrencyError

    outcome = World(0).run(LORA_7B, offering(provider="OVHcloud", currency="EUR"))
    usd = outcome.in_currency("USD", ExchangeRates({"EUR": 0.5}, source="test"))
    assert usd.currency == "USD" and usd.cost == pytest.approx(outcome.cost * 2)
    assert usd.hours == outcome.hours
    assert outcome.in_currency("EUR") == outcome
    with pytest.raises(CurrencyError, match="GBP"):
        outcome.in_currency("GBP")


def test_a_job_interrupted_faster_than_it_progresses_is_given_up() -> None:
    world = World(3)
    assert world.seed == 3
    vast = offering(provider="Vast.ai", price=1.0, spot=0.5)
    # Checkpoints every 40 hours on capacity preempted several times a day: no progress.
    hopeless = LORA_7B.model_copy(update={"num_epochs": 50, "checkpoint_interval_hours": 40.0})
    expected = world.expected(hopeless, vast, spot=True)
    assert expected.runnable and expected.success_probability == 0.0
    assert expected.expected_cost == float("inf")
    assert 0 < expected.attempt_cost < float("inf")
    outcome = world.run(hopeless, vast, spot=True)
    assert outcome.status is JobStatus.PREEMPTED
    assert outcome.preemptions > 10
