"""The simulated world: the true outcome of running a workload on an offering.

``World(seed)`` is the ground truth the feedback loop learns from and is evaluated against. On top
of the physics of ``_physics.py`` it adds what only experience reveals, drawn once per world from
its seed:

* per-provider reliability (provider faults per node-hour), spot preemption rate, multi-node
  interconnect efficiency (the communication penalty per doubling of nodes), start-up time, storage
  throughput and a small performance multiplier (shared hosts, thermals, noisy neighbours);
* a per-(provider, GPU family) performance multiplier;
* run-to-run noise on the compute time and on the spot price paid.

Decisions:

* ``run`` is a pure function of ``(seed, workload, offering, nodes, spot, trial)``: the random
  stream of one run is derived from a hash of those inputs, so results do not depend on the order
  in which runs are asked for. Pass a different ``trial`` to repeat a run with fresh noise.
* Quirks of a provider are derived from ``(seed, provider name)``: any provider name works, the
  well-known ones start from realistic priors, unknown ones from a middling default.
* Failure model. Out of memory (true need above usable GPU memory, or host RAM for CPU-bound jobs)
  fails the job a few minutes in. A job that needs a GPU fails at start on a CPU-only machine.
  While running, spot preemptions and provider faults arrive as Poisson processes per node-hour.
  With checkpointing, a preemption costs the work since the last checkpoint plus a restart, and a
  fault is survived the same way 80% of the time; without checkpointing either one ends the job.
  More than ``MAX_INTERRUPTIONS`` interruptions end it too.
* Cost is wall-clock hours x nodes x the price actually paid (on-demand list price, or the spot
  price with +-10% market noise), in the offering's currency: it includes retries after preemptions.
* A non-distributed job on several nodes uses one and pays for all; a distributed job uses at most
  ``max_nodes``.
* ``expected`` gives the noise-free expectation of the same model: wall time of an uninterrupted
  attempt, success probability, the expected time and cost of one attempt (failed or not), and the
  expected time and cost to get the job done if failed attempts are rerun from scratch.
  ``ground_truth.py`` builds the evaluation's ground truth from it.
* The metric change (for example validation accuracy, higher is better) belongs to the workload:
  its starting value and typical relative gain derive from the query id, with small run noise.
  Failed jobs report no metric.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import JobOutcome, Offering, WorkloadProfile
from artenic_opt.simulate import _physics as phys
from artenic_opt.types import FailureReason, JobStatus, OutcomeSource

#: Interruptions (preemptions plus survived faults) after which a job is given up.
MAX_INTERRUPTIONS = 50
#: Share of provider faults a checkpointed job survives by resuming.
FAULT_SURVIVAL_WITH_CHECKPOINT = 0.8
#: Time to re-provision and resume after an interruption, before reloading weights (hours).
RESTART_HOURS = 0.1
#: Time before an out-of-memory error shows (hours): load, compile, first steps.
OOM_AFTER_HOURS = 0.08
#: Time before a GPU job notices it landed on a CPU-only machine (hours).
NO_GPU_AFTER_HOURS = 0.02


class RunSpec(NamedTuple):
    """One candidate to run: an offering, a node count, and spot or on-demand."""

    offering: Offering
    nodes: int = 1
    spot: bool = False


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """Hidden behaviour of one provider in one world."""

    name: str
    fault_rate_per_node_hour: float
    spot_preemption_per_node_hour: float
    interconnect_efficiency: float  # scaling efficiency kept per doubling of nodes
    startup_hours: float
    storage_gbps: float  # read and checkpoint-write throughput per node
    performance: float  # multiplier on sustained throughput


# Priors per provider family (fault/h, preemption/h, interconnect, start-up h, storage GB/s, perf).
_Prior = tuple[float, float, float, float, float, float]
_PROVIDER_PRIORS: tuple[tuple[tuple[str, ...], _Prior], ...] = (
    (("aws", "amazon"), (0.0005, 0.04, 0.92, 0.08, 1.5, 1.00)),
    (("gcp", "google"), (0.0006, 0.07, 0.90, 0.07, 1.5, 1.00)),
    (("azure", "microsoft"), (0.0009, 0.06, 0.91, 0.10, 1.2, 0.98)),
    (("coreweave",), (0.0010, 0.08, 0.94, 0.05, 2.5, 1.02)),
    (("nebius",), (0.0010, 0.08, 0.92, 0.06, 2.0, 1.01)),
    (("lambda",), (0.0015, 0.10, 0.88, 0.05, 2.0, 1.03)),
    (("oci", "oracle"), (0.0010, 0.06, 0.90, 0.10, 1.5, 1.00)),
    (("runpod",), (0.0040, 0.15, 0.70, 0.03, 1.0, 0.95)),
    (("vast",), (0.0100, 0.20, 0.55, 0.05, 0.6, 0.90)),
    (("ovh",), (0.0020, 0.10, 0.75, 0.12, 1.0, 0.97)),
    (("scaleway",), (0.0020, 0.10, 0.78, 0.10, 1.0, 0.97)),
    (("hetzner",), (0.0025, 0.10, 0.70, 0.12, 0.8, 0.98)),
    (("paperspace", "digitalocean"), (0.0025, 0.12, 0.72, 0.06, 1.0, 0.96)),
    (("datacrunch", "fluidstack", "tensordock", "jarvis"), (0.0030, 0.12, 0.75, 0.05, 1.2, 0.97)),
)
_DEFAULT_PRIOR: _Prior = (0.0030, 0.12, 0.75, 0.10, 1.0, 0.96)


def _stable_int(*parts: object) -> int:
    """A 63-bit integer from text, stable across processes (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class SimulatedOutcome(BaseModel):
    """The true result of one simulated run."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    status: JobStatus
    failure_reason: FailureReason | None = None
    hours: float = Field(ge=0)
    cost: float = Field(ge=0)
    currency: str
    preemptions: int = Field(default=0, ge=0)
    metric_before: float | None = None
    metric_after: float | None = None
    nodes: int = Field(ge=1)
    spot: bool
    memory_needed_gb: float = Field(description="Per GPU, or host RAM for CPU-bound jobs")
    memory_available_gb: float

    @property
    def succeeded(self) -> bool:
        return self.status is JobStatus.COMPLETED

    def in_currency(self, currency: str, rates: ExchangeRates = DEFAULT_RATES) -> SimulatedOutcome:
        """The same outcome with its cost converted to ``currency`` (explicit rate table)."""
        factor = rates.factor(self.currency, currency)
        return self.model_copy(update={"cost": self.cost * factor, "currency": currency})

    def to_job_outcome(
        self,
        recommendation_id: str,
        rank: int,
        *,
        job_id: str | None = None,
        recorded_at: datetime | None = None,
    ) -> JobOutcome:
        """The outcome as the feedback loop records it (source ``simulator``)."""
        extra = {"recorded_at": recorded_at} if recorded_at is not None else {}
        return JobOutcome(
            recommendation_id=recommendation_id,
            rank=rank,
            status=self.status,
            hours=self.hours,
            cost=self.cost,
            currency=self.currency,
            preemptions=self.preemptions,
            metric_before=self.metric_before,
            metric_after=self.metric_after,
            failure_reason=self.failure_reason,
            source=OutcomeSource.SIMULATOR,
            job_id=job_id,
            **extra,
        )


class ExpectedOutcome(BaseModel):
    """Noise-free expectation of running a workload on a candidate."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    runnable: bool = Field(description="Fits in memory and has a GPU when one is required")
    failure_mode: FailureReason | None = None
    memory_needed_gb: float
    memory_available_gb: float
    hours: float = Field(description="Wall time of one attempt that is not cut short")
    success_probability: float = Field(ge=0, le=1)
    expected_hours: float = Field(description="Expected wall time until one attempt completes")
    expected_cost: float = Field(description="Expected cost until one attempt completes")
    attempt_hours: float = Field(description="Expected wall time of one attempt, failed or not")
    attempt_cost: float = Field(description="Expected cost of one attempt, failed or not")
    price_per_hour: float = Field(description="All nodes, spot or on-demand")
    currency: str


@dataclass(frozen=True, slots=True)
class _Plan:
    """Deterministic part of a run: what it needs, how long the work takes, its hazards."""

    runnable: bool
    failure_mode: FailureReason | None
    memory_needed_gb: float
    memory_available_gb: float
    work_hours: float  # compute (or IO) time of the training itself, no interruptions
    setup_hours: float  # start-up, weight loading, first-step compilation
    reload_hours: float  # cost of each restart after an interruption
    preemption_rate: float  # per hour, all nodes
    fault_rate: float  # per hour, all nodes
    price_per_hour: float  # list price of all nodes (spot or on-demand)


class World:
    """A seeded simulated world. ``run`` gives the true outcome; ``expected`` its expectation."""

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise InvalidInputError(f"seed: must be a non-negative integer, got {seed!r}")
        self._seed = seed
        self._providers: dict[str, ProviderProfile] = {}
        self._gpu_perf: dict[tuple[str, str], float] = {}

    @property
    def seed(self) -> int:
        return self._seed

    # -- hidden quirks ---------------------------------------------------------------------------

    def provider_profile(self, provider: str) -> ProviderProfile:
        """The provider's hidden behaviour here: the prior of its family, jittered by the seed."""
        key = provider.strip().lower()
        cached = self._providers.get(key)
        if cached is not None:
            return cached
        prior = _DEFAULT_PRIOR
        for names, values in _PROVIDER_PRIORS:
            if any(name in key for name in names):
                prior = values
                break
        fault, preempt, inter, startup, storage, perf = prior
        rng = np.random.default_rng([self._seed, _stable_int("provider", key)])
        profile = ProviderProfile(
            name=key,
            fault_rate_per_node_hour=fault * float(rng.lognormal(0.0, 0.3)),
            spot_preemption_per_node_hour=preempt * float(rng.lognormal(0.0, 0.3)),
            interconnect_efficiency=min(0.99, max(0.4, inter + float(rng.normal(0.0, 0.03)))),
            startup_hours=startup * float(rng.uniform(0.8, 1.25)),
            storage_gbps=storage * float(rng.uniform(0.8, 1.25)),
            performance=perf * float(rng.uniform(0.96, 1.04)),
        )
        self._providers[key] = profile
        return profile

    def gpu_performance(self, provider: str, gpu_type: str | None) -> float:
        """Multiplier on a GPU family's throughput at one provider (drivers, clocks, cooling)."""
        family = phys.gpu_family(gpu_type).key
        key = (provider.strip().lower(), family)
        cached = self._gpu_perf.get(key)
        if cached is None:
            rng = np.random.default_rng([self._seed, _stable_int("gpu", *key)])
            cached = float(np.clip(rng.lognormal(0.0, 0.05), 0.85, 1.15))
            self._gpu_perf[key] = cached
        return cached

    # -- the model -------------------------------------------------------------------------------

    def memory_needed_gb(
        self, workload: WorkloadProfile, offering: Offering, nodes: int = 1
    ) -> float:
        """True peak memory: per GPU for GPU jobs, host RAM for CPU-bound or CPU-only runs."""
        _check_nodes(nodes)
        if workload.framework.is_cpu_bound:
            return phys.host_memory_needed_gb(workload)
        if offering.gpu_count == 0:
            # A small network on a CPU machine: the model state and activations live in host RAM.
            state = phys.model_state_gb(workload).total
            return (state + phys.activations_gb(workload)) * phys.FRAGMENTATION + 1.0
        return phys.gpu_memory_needed_gb(workload, offering, nodes)

    def _plan(self, workload: WorkloadProfile, offering: Offering, nodes: int, spot: bool) -> _Plan:
        _check_nodes(nodes)
        if spot and offering.spot_price_per_hour is None:
            raise InvalidInputError(
                f"spot: offering {offering.offering_id} is not sold as spot (no spot price)"
            )
        profile = self.provider_profile(offering.provider)
        unit_price = offering.spot_price_per_hour if spot else offering.price_per_hour
        assert unit_price is not None  # checked above
        price = unit_price * nodes
        used_nodes = phys.nodes_used(workload, nodes)
        needed = self.memory_needed_gb(workload, offering, nodes)
        cpu_side = workload.framework.is_cpu_bound or offering.gpu_count == 0
        if cpu_side:
            available = phys.host_memory_gb(offering)
            usable = available * phys.USABLE_HOST_MEMORY_SHARE
        else:
            available = offering.gpu_memory_gb or 0.0
            usable = available * phys.USABLE_GPU_MEMORY_SHARE

        failure: FailureReason | None = None
        if (
            workload.gpu_required
            and offering.gpu_count == 0
            and not workload.framework.is_cpu_bound
        ):
            failure = FailureReason.USER_ERROR
        elif needed > usable:
            failure = FailureReason.OUT_OF_MEMORY

        preempt_rate = profile.spot_preemption_per_node_hour * nodes if spot else 0.0
        fault_rate = profile.fault_rate_per_node_hour * nodes
        weights_gb = phys.model_state_gb(workload).weights
        setup = profile.startup_hours + 0.03
        if workload.framework.is_cpu_bound:
            work = phys.cpu_bound_hours(workload, offering) / profile.performance
            setup += workload.dataset_size_gb / (profile.storage_gbps * 3600.0)
        else:
            work = self._neural_hours(workload, offering, nodes, profile)
            setup += weights_gb / (profile.storage_gbps * 3600.0)
            gpus = phys.gpus_used_per_node(workload, offering) * used_nodes
            if gpus > 1:
                setup += 0.02 * math.log2(gpus)  # process-group and NCCL start-up
        reload = RESTART_HOURS + weights_gb / (profile.storage_gbps * 3600.0)
        return _Plan(
            runnable=failure is None,
            failure_mode=failure,
            memory_needed_gb=needed,
            memory_available_gb=available,
            work_hours=work,
            setup_hours=setup,
            reload_hours=reload,
            preemption_rate=preempt_rate,
            fault_rate=fault_rate,
            price_per_hour=price,
        )

    def _neural_hours(
        self, workload: WorkloadProfile, offering: Offering, nodes: int, profile: ProviderProfile
    ) -> float:
        used_nodes = phys.nodes_used(workload, nodes)
        if offering.gpu_count == 0:
            rate_tflops = phys.vcpus_of(offering) * phys.CPU_TFLOPS_PER_VCPU * used_nodes
        else:
            family = phys.gpu_family(offering.gpu_type)
            per_node = phys.gpus_used_per_node(workload, offering)
            per_gpu = phys.sustained_tflops_per_gpu(workload, family)
            per_gpu *= self.gpu_performance(offering.provider, offering.gpu_type)
            scaling = phys.intra_node_efficiency(per_node, family)
            if used_nodes > 1:
                scaling *= profile.interconnect_efficiency ** math.log2(used_nodes)
            rate_tflops = per_gpu * per_node * used_nodes * scaling
        compute = phys.training_flops(workload) / (rate_tflops * profile.performance * 1e12)
        compute /= 3600.0
        reads = workload.dataset_size_gb * workload.num_epochs
        io = reads / (profile.storage_gbps * used_nodes * 3600.0)
        work = max(compute, io)
        if workload.checkpointing:
            checkpoints = math.floor(work / workload.checkpoint_interval_hours)
            write = phys.checkpoint_size_gb(workload) / (profile.storage_gbps * used_nodes * 3600.0)
            work += checkpoints * write
        return work

    # -- expectation -----------------------------------------------------------------------------

    def expected(
        self, workload: WorkloadProfile, offering: Offering, nodes: int = 1, spot: bool = False
    ) -> ExpectedOutcome:
        """Noise-free expectation: single-attempt hours, success chance, expected cost to finish."""
        plan = self._plan(workload, offering, nodes, spot)
        if not plan.runnable:
            lost = OOM_AFTER_HOURS if plan.failure_mode is FailureReason.OUT_OF_MEMORY else 0.0
            hours = plan.setup_hours + lost
            return ExpectedOutcome(
                runnable=False,
                failure_mode=plan.failure_mode,
                memory_needed_gb=plan.memory_needed_gb,
                memory_available_gb=plan.memory_available_gb,
                hours=hours,
                success_probability=0.0,
                expected_hours=math.inf,
                expected_cost=math.inf,
                attempt_hours=hours,
                attempt_cost=hours * plan.price_per_hour,
                price_per_hour=plan.price_per_hour,
                currency=offering.currency,
            )
        recoverable, fatal = self._hazards(workload, plan)
        # Each survived interruption loses half a checkpoint interval on average, plus a restart.
        loss = workload.checkpoint_interval_hours / 2.0 + plan.reload_hours
        slowdown = 1.0 - recoverable * loss
        wall = math.inf if slowdown <= 0.05 else plan.setup_hours + plan.work_hours / slowdown
        if math.isinf(wall):
            # Interrupted faster than it progresses: it runs until it is given up.
            success, to_success = 0.0, math.inf
            attempt = plan.setup_hours + MAX_INTERRUPTIONS / recoverable
        elif fatal > 0:
            success = math.exp(-fatal * wall)
            # Exponential hazard, restart from scratch: E[time to a full clean run] = (e^(rT)-1)/r,
            # and one attempt lasts E[min(failure time, T)] = (1 - e^(-rT))/r.
            exponent = fatal * wall
            to_success = math.expm1(exponent) / fatal if exponent < 700 else math.inf
            attempt = -math.expm1(-exponent) / fatal
        else:
            success, to_success, attempt = 1.0, wall, wall
        return ExpectedOutcome(
            runnable=True,
            memory_needed_gb=plan.memory_needed_gb,
            memory_available_gb=plan.memory_available_gb,
            hours=wall,
            success_probability=success,
            expected_hours=to_success,
            expected_cost=to_success * plan.price_per_hour,
            attempt_hours=attempt,
            attempt_cost=attempt * plan.price_per_hour,
            price_per_hour=plan.price_per_hour,
            currency=offering.currency,
        )

    @staticmethod
    def _hazards(workload: WorkloadProfile, plan: _Plan) -> tuple[float, float]:
        """(recoverable, fatal) interruption rates per hour of wall time."""
        if workload.checkpointing:
            survived = FAULT_SURVIVAL_WITH_CHECKPOINT
            recoverable = plan.preemption_rate + plan.fault_rate * survived
            fatal = plan.fault_rate * (1.0 - survived)
        else:
            recoverable = 0.0
            fatal = plan.preemption_rate + plan.fault_rate
        return recoverable, fatal

    # -- one run ---------------------------------------------------------------------------------

    def run(
        self,
        workload: WorkloadProfile,
        offering: Offering,
        nodes: int = 1,
        spot: bool = False,
        *,
        trial: int = 0,
    ) -> SimulatedOutcome:
        """Run the workload once and return what really happened."""
        plan = self._plan(workload, offering, nodes, spot)
        rng = np.random.default_rng(
            [
                self._seed,
                _stable_int(workload.query_id),
                _stable_int(offering.offering_id, offering.gpu_type, offering.price_per_hour),
                nodes,
                int(spot),
                trial,
            ]
        )
        price_paid = plan.price_per_hour * (float(rng.uniform(0.9, 1.1)) if spot else 1.0)

        def outcome(
            status: JobStatus,
            reason: FailureReason | None,
            hours: float,
            preemptions: int = 0,
            metric: tuple[float, float] | None = None,
        ) -> SimulatedOutcome:
            return SimulatedOutcome(
                status=status,
                failure_reason=reason,
                hours=hours,
                cost=hours * price_paid,
                currency=offering.currency,
                preemptions=preemptions,
                metric_before=metric[0] if metric else None,
                metric_after=metric[1] if metric else None,
                nodes=nodes,
                spot=spot,
                memory_needed_gb=plan.memory_needed_gb,
                memory_available_gb=plan.memory_available_gb,
            )

        if not plan.runnable:
            lost = OOM_AFTER_HOURS if plan.failure_mode is FailureReason.OUT_OF_MEMORY else 0.0
            hours = plan.setup_hours + lost * float(rng.uniform(0.5, 1.5))
            hours = max(hours, NO_GPU_AFTER_HOURS)
            return outcome(JobStatus.FAILED, plan.failure_mode, hours)

        remaining = plan.work_hours * float(rng.lognormal(0.0, 0.06))
        clock = plan.setup_hours
        since_checkpoint = 0.0
        preemptions = 0
        interruptions = 0
        total_rate = plan.preemption_rate + plan.fault_rate
        status = JobStatus.COMPLETED
        reason: FailureReason | None = None
        while True:
            gap = float(rng.exponential(1.0 / total_rate)) if total_rate > 0 else math.inf
            if gap >= remaining:
                clock += remaining
                break
            clock += gap
            remaining -= gap
            since_checkpoint = (since_checkpoint + gap) % workload.checkpoint_interval_hours
            is_preemption = float(rng.uniform()) * total_rate < plan.preemption_rate
            if is_preemption:
                preemptions += 1
            interruptions += 1
            survived = workload.checkpointing and (
                is_preemption or float(rng.uniform()) < FAULT_SURVIVAL_WITH_CHECKPOINT
            )
            if not survived or interruptions > MAX_INTERRUPTIONS:
                status = JobStatus.PREEMPTED if is_preemption else JobStatus.FAILED
                reason = FailureReason.PREEMPTED if is_preemption else FailureReason.PROVIDER_FAULT
                break
            # Resume from the last checkpoint: redo the work since then, after a restart.
            remaining += since_checkpoint
            since_checkpoint = 0.0
            clock += plan.reload_hours

        metric = self._metric(workload, rng) if status is JobStatus.COMPLETED else None
        return outcome(status, reason, clock, preemptions, metric)

    def _metric(self, workload: WorkloadProfile, rng: np.random.Generator) -> tuple[float, float]:
        """Validation metric before and after (higher is better), mostly set by the workload."""
        own = np.random.default_rng([self._seed, _stable_int("metric", workload.query_id)])
        before = float(own.uniform(0.35, 0.85))
        gain = float(own.uniform(0.0, 0.12)) + float(rng.normal(0.0, 0.005))
        after = min(0.999, before * (1.0 + gain))
        return round(before, 6), round(after, 6)


def _check_nodes(nodes: int) -> None:
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise InvalidInputError(f"nodes: must be an integer of at least 1, got {nodes!r}")
