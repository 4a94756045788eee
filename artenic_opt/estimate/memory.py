# Over 600 lines: one memory model (states, activations, plan rows, arrays), long docstring.
"""Memory a workload needs per device under a training plan, vectorised over rows, and whether
it fits.

A row is a candidate (GPUs per node x nodes, device and host memory) together with one training
plan (micro-batch, activation checkpointing, sharding, tensor parallel degree, CPU offload). The
plan search (``estimate.plans``) evaluates thousands of such rows at once; the advisor then keeps
one plan per candidate and reports its ``MemoryArrays``.

The "device" is where the training state lives: a GPU for deep learning on GPU offerings; host
RAM for CPU-bound frameworks (their GPUs would idle) and for deep learning on CPU-only offerings.

Decisions (every figure is a module constant with its source):

* **Model states** follow the ZeRO paper's accounting (Rajbhandari et al. 2020, sec. 3.1): mixed
  precision keeps 16-bit weights (2 B) and gradients (2 B) plus an fp32 master copy (4 B) next to
  the optimiser states; AdamW holds two fp32 moments (8 B), so 16 B/param in all. fp32 training
  keeps 4 B weights and gradients and no master copy. ``pure_bf16`` (torchtune's default) keeps
  no master copy and the optimiser states in bf16 (half the fp32 bytes). TF32 stores like fp32
  (only its matmuls differ). fp8 (Transformer Engine) stores like bf16 mixed precision: the
  module weights stay 16-bit with the fp32 master and optimiser states beside them (NeMo
  "Mixed Precision Training", FP8 section: model states in higher precision), and TE keeps an
  fp8 copy of each weight cast for its GEMMs, cached across the micro-batches of a step
  (``is_first_microbatch``): ``FP8_WEIGHT_COPY_BYTES`` = 1 B/param more. Activations are
  counted as bf16 ones (TE saves only the GEMM inputs in fp8; norms, attention and the rest
  stay 16-bit), so fp8 is never estimated below bf16.
* **Optimiser states** per trainable parameter: AdamW/Adam 8 B; 8-bit AdamW 2 B (Dettmers et al.
  2022, "8-bit Optimizers via Block-wise Quantization"); paged 8-bit AdamW the same 2 B, held in
  pageable memory that spills to host RAM, so it counts on the host, not the GPU; Adafactor
  factors the second moment into a row and a column vector (Shazeer & Stern 2018), about
  ``8 / hidden`` B per parameter of a ``hidden x hidden`` matrix, without momentum (the HF
  default ``beta1=None``); SGD with momentum 4 B; plain SGD 0.
* **LoRA / QLoRA**: the frozen base is stored once in 16 bit (LoRA) or, for QLoRA, only its
  quantised linear layers in NF4 with double quantisation, 4.127 bits per parameter (Dettmers et
  al. 2023, "QLoRA", sec. 3: 32/64 + 8/(64*256) bits of constants), while the embeddings and the
  output head (``2 x vocab x hidden`` parameters, one matrix when the architecture ties them,
  as Llama 3.2 3B does) stay in 16 bit. Adapters are trained in fp32
  (PEFT upcasts adapter weights to fp32 by default): 4 B weights + 4 B gradients + the optimiser
  states, no master copy.
* **Sharding** over the data-parallel group (GPUs / tensor-parallel degree): ZeRO-1 splits the
  optimiser states and master weights, ZeRO-2 also the gradients, ZeRO-3 / FSDP also the weights,
  plus a prefetch buffer of two transformer blocks of gathered 16-bit weights. **Tensor
  parallelism** divides every model state and, with sequence parallelism, every activation by
  its degree (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
  Models", Table 2). **CPU offload** (ZeRO-Offload, FSDP ``cpu_offload``) moves optimiser states,
  master weights and gradients to host RAM, and with ZeRO-3/FSDP the weights as well; the host
  of each node then holds its share, checked against its RAM (a host whose RAM the catalog does
  not publish cannot take an offload).
* **Activations** per token and block come from ``estimate.activation_shape`` (tensor by
  tensor from the architecture, Korthikanti et al. 2022; ``34 x hidden`` without one). fp32
  doubles them; ``eager_attention`` adds the score term. Full checkpointing keeps each block's
  16-bit input (``2 x hidden`` B) plus one block during recompute; selective checkpoints every
  second block (torchtune's ``ac_option=2``). Causal LMs add the logits, ``vocab`` values per
  token (the architecture's; Llama 2's 32,000 when unknown): HF ``LlamaForCausalLM`` upcasts
  them to fp32 (4 B), cross-entropy saves its fp32 log-softmax (4 B), the backward adds an fp32
  gradient (4 B): 12 B, split by tensor parallelism; with ``chunked_loss`` (torchtune's
  ``CEWithChunkedOutputLoss`` in 8 chunks, LitGPT's chunked loss) only the bf16 logits stay
  whole: 2 + 12/8 B. Encoders (fine-tuned with a small task head) have no vocabulary logits.
* **Peak**: weights and optimiser states are resident; gradients fill in as the backward pass
  frees each block's activations, so the two peak at opposite ends of the backward pass and the
  larger counts, not their sum, when the gradients are freed after each step (PyTorch >= 2.0
  ``zero_grad(set_to_none=True)``). With gradient accumulation the previous micro-batches'
  gradients are alive while the next one stores its activations, so the two add
  (``gradients_persist``); the plan search always budgets the sum (it sizes the micro-batch
  on top of the full gradients). ``optimizer_in_backward`` (torchtune's ``optimizer_in_bwd``)
  steps each parameter as its gradient arrives: about one block of gradients at a time.
* **Allocated vs reserved.** ``allocated_gb`` is what ``torch.cuda.max_memory_allocated`` (or
  torchtune's active peak) reports: the states plus the larger of gradients and activations.
  ``needed_gb`` adds the caching allocator's fragmentation of the activations (what
  ``max_memory_reserved`` reports); NVML / ``nvidia-smi`` adds the CUDA context on top.
* **Usable memory** is the card minus a measured framework reserve, not a flat share: the CUDA
  context of a PyTorch process with lazy module loading, about 0.4 GB (PyTorch maintainers,
  pytorch/pytorch#109888, 2023; 287 MB measured in pytorch/pytorch#86509), and allocator
  fragmentation of the short-lived tensors, 15% of the activations (GMLake, Guo et al. ASPLOS
  2024, arXiv 2401.08156: 15% average fragmentation of PyTorch's caching allocator over eight
  LLM fine-tunes on A100-80GB). Model states are allocated once, in large blocks, and carry no
  fragmentation. A run measured at 92-95% of its card therefore fits.
* Unknown device memory (NaN host RAM of a CPU row) is not held against a row; ``available_known``
  says so, so that the advisor can warn.
* CPU-bound frameworks need the data working set (dataset x framework factor, ``assumptions``)
  plus a base in host RAM; ``min_system_memory_gb`` is a separate host-RAM check on every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray, IntArray
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.activation_shape import (
    AUTOCAST_EXTRA_BYTES_PER_HIDDEN,
    AUTOCAST_EXTRA_SCORE_BYTES,
    EAGER_SCORE_BYTES_PER_HEAD_POSITION,
    activation_bytes_per_token_layer,
    embedding_matrices,
    lora_dropout_bytes_per_token_layer,
    quantised_inputs_bytes_per_token_layer,
)
from artenic_opt.estimate.workload import WorkloadFacts, WorkloadKind, describe_workload
from artenic_opt.schemas import MemoryEstimate, WorkloadProfile
from artenic_opt.types import CheckpointMode, FineTuning, OptimizerKind, Precision, ShardingMode

# --- constants (sources in the module docstring) -----------------------------------------------
#: fp32 optimiser-state bytes per trainable parameter; Adafactor is handled per hidden size.
OPTIMIZER_STATE_BYTES: Final = MappingProxyType(
    {
        OptimizerKind.ADAMW: 8.0,
        OptimizerKind.ADAM: 8.0,
        OptimizerKind.ADAMW_8BIT: 2.0,
        OptimizerKind.PAGED_ADAMW_8BIT: 2.0,
        OptimizerKind.ADAFACTOR: 0.0,
        OptimizerKind.SGD_MOMENTUM: 4.0,
        OptimizerKind.SGD: 0.0,
    }
)
#: Optimisers whose states live in paged memory (host RAM when the GPU is short).
PAGED_OPTIMIZERS: Final = frozenset({OptimizerKind.PAGED_ADAMW_8BIT})
#: Optimisers whose states are fp32 tensors shaped like the weights (bf16 under ``pure_bf16``).
_FP32_STATE_OPTIMIZERS: Final = frozenset(
    {OptimizerKind.ADAMW, OptimizerKind.ADAM, OptimizerKind.SGD_MOMENTUM}
)
#: Adafactor: row + column second-moment vectors of an h x h matrix in fp32 = 8/h B per param.
ADAFACTOR_BYTES_TIMES_HIDDEN: Final = 8.0
MASTER_WEIGHT_BYTES: Final = 4.0
ADAPTER_BYTES: Final = 4.0  # fp32 adapter weights, and their fp32 gradients
#: fp8 training (Transformer Engine): the fp8 copy of each weight cached for its GEMMs, B/param
#: (TE fp8 primer, docs.nvidia.com/deeplearning/transformer-engine/user-guide/examples/
#: fp8_primer.html: weights are cast to fp8 before the GEMM; see the module docstring).
FP8_WEIGHT_COPY_BYTES: Final = 1.0
NF4_DOUBLE_QUANT_BITS: Final = 4.127
CHECKPOINT_BYTES_PER_TOKEN_HIDDEN: Final = 2.0
LOGIT_BYTES_PER_TOKEN_VOCAB: Final = 12.0
#: bf16 logits kept whole; the fp32 copy, log-softmax and gradient exist one chunk of 8 at a time.
CHUNKED_LOGIT_BYTES_PER_TOKEN_VOCAB: Final = 2.0 + 12.0 / 8.0
DEFAULT_VOCAB: Final = 32_000  # Llama 2's vocabulary, used when the architecture is unknown
PREFETCH_BLOCKS: Final = 2.0
CUDA_CONTEXT_GB: Final = 0.4
ALLOCATOR_FRAGMENTATION: Final = 0.15

CHECKPOINT_CODES: Final = (CheckpointMode.OFF, CheckpointMode.SELECTIVE, CheckpointMode.FULL)
#: Memory stage of each sharding mode: how many kinds of state are split (FSDP = ZeRO-3).
SHARDING_STAGE: Final = MappingProxyType(
    {
        ShardingMode.DDP: 0,
        ShardingMode.ZERO1: 1,
        ShardingMode.ZERO2: 2,
        ShardingMode.ZERO3: 3,
        ShardingMode.FSDP: 3,
    }
)

_DEVICE_INPUTS = (
    "offering.gpu_count",
    "offering.gpu_memory_gb",
    "offering.memory_gb",
    "nodes",
    "plan",
)


@dataclass(frozen=True, slots=True)
class ModelStates:
    """Whole-job model-state bytes of a workload (GB), before any sharding."""

    #: Weights that ZeRO-3/FSDP shard (16-bit or fp32 copy, frozen base incl. quantised part).
    weights_gb: float
    gradients_gb: float
    #: Optimiser states plus fp32 master weights.
    optimizer_gb: float
    #: Optimiser bytes that live in paged (host-spillable) memory.
    paged: bool
    #: One transformer block of gathered weights (GB), for the ZeRO-3/FSDP prefetch buffer.
    block_weights_gb: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.gradients_gb + self.optimizer_gb


def _vocab(facts: WorkloadFacts, workload: WorkloadProfile | None = None) -> float:
    """The vocabulary: the architecture's, else Llama 2's (``DEFAULT_VOCAB``)."""
    arch = workload.architecture if workload is not None else None
    if arch is not None and arch.vocab > 0:
        return float(arch.vocab)
    vocab = getattr(facts, "vocab", None)
    return float(vocab) if vocab else float(DEFAULT_VOCAB)


def _optimizer_bytes(workload: WorkloadProfile, facts: WorkloadFacts) -> float:
    if workload.optimizer is OptimizerKind.ADAFACTOR:
        return ADAFACTOR_BYTES_TIMES_HIDDEN / max(facts.hidden, 1.0)
    return OPTIMIZER_STATE_BYTES[workload.optimizer]


def model_states(
    workload: WorkloadProfile, facts: WorkloadFacts | None = None, *, autocast: bool = False
) -> ModelStates:
    """Weights, gradients and optimiser states of the whole job (see the module docstring).

    ``autocast``: mixed precision by torch autocast (plain PyTorch / HF Trainer AMP) instead of
    the ZeRO accounting: fp32 weights and gradients, the optimiser states, and the 16-bit weight
    copies the forward pass casts and keeps for the backward: 18 B per parameter with AdamW
    (the HF single-GPU guide, "Anatomy of Model's Memory").
    """
    facts = facts or describe_workload(workload)
    params = facts.params
    fp32 = workload.precision.stores_fp32
    word = 4.0 if fp32 else 2.0
    optimizer = _optimizer_bytes(workload, facts)
    amp = autocast and not fp32 and not workload.pure_bf16
    if workload.fine_tuning is FineTuning.FULL and amp:
        return ModelStates(
            weights_gb=params * (MASTER_WEIGHT_BYTES + word) / asm.GB,
            gradients_gb=params * MASTER_WEIGHT_BYTES / asm.GB,
            optimizer_gb=params * optimizer / asm.GB,
            paged=workload.optimizer in PAGED_OPTIMIZERS,
            block_weights_gb=params * word / max(facts.layers, 1.0) / asm.GB,
        )
    if workload.fine_tuning is FineTuning.FULL:
        pure = workload.pure_bf16 and not fp32
        master = 0.0 if (fp32 or pure) else MASTER_WEIGHT_BYTES
        halves = pure and workload.optimizer in _FP32_STATE_OPTIMIZERS
        states = optimizer / 2.0 if halves else optimizer
        weights = params * word
        # Optimizer-in-backward steps each parameter as its gradient arrives and frees it.
        gradients = (
            params * word / max(facts.layers, 1.0)
            if workload.optimizer_in_backward
            else params * word
        )
        optimizer_total = params * (states + master)
    else:
        adapters = facts.trainable_params
        if workload.fine_tuning is FineTuning.QLORA:
            arch = workload.architecture
            tables = embedding_matrices(arch) if arch is not None and arch.layers > 0 else 2.0
            unquantised = min(0.5 * params, tables * _vocab(facts, workload) * facts.hidden)
            bits = NF4_DOUBLE_QUANT_BITS if workload.precision is Precision.INT4 else 8.0
            base = (params - unquantised) * bits / 8.0 + unquantised * 2.0
        else:
            base = params * word
        weights = base + adapters * ADAPTER_BYTES
        gradients = adapters * ADAPTER_BYTES
        optimizer_total = adapters * optimizer
    if workload.precision is Precision.FP8:
        weights += params * FP8_WEIGHT_COPY_BYTES
    block = params * word / max(facts.layers, 1.0)
    return ModelStates(
        weights_gb=weights / asm.GB,
        gradients_gb=gradients / asm.GB,
        optimizer_gb=optimizer_total / asm.GB,
        paged=workload.optimizer in PAGED_OPTIMIZERS,
        block_weights_gb=block / asm.GB,
    )


def positions_per_sample(workload: WorkloadProfile, facts: WorkloadFacts) -> float:
    """Token (or patch) positions in one sequence or sample."""
    if facts.kind is WorkloadKind.TOKENS:
        return float(workload.sequence_length)
    return float(asm.POSITIONS_PER_SAMPLE)


def _has_vocab_logits(workload: WorkloadProfile, facts: WorkloadFacts) -> bool:
    arch = workload.architecture
    if arch is not None:
        return arch.kind == "llm"
    return facts.kind is WorkloadKind.TOKENS


def activation_gb_per_sample(
    workload: WorkloadProfile,
    facts: WorkloadFacts,
    checkpoint_code: npt.ArrayLike,
    tensor_parallel: npt.ArrayLike,
    *,
    eager_attention: bool = False,
    lora_dropout_targets: str | None = None,
    activation_offload: bool = False,
    autocast: bool = False,
    quantised_inputs_kept: bool = False,
) -> FloatArray:
    """Activation memory of one sequence (sample) on one GPU, GB, per checkpointing code
    (0 off, 1 selective, 2 full) and tensor-parallel degree (flash attention, sequence parallel).

    Set-ups the plan search does not choose, for measured runs that used them:
    ``eager_attention`` adds the stored attention scores of attention without flash kernels;
    ``lora_dropout_targets`` (``qv`` / ``all``) adds the LoRA dropout's kept inputs (adapters
    with ``lora_dropout > 0``); ``activation_offload`` (torchtune's
    ``enable_activation_offloading``) moves the checkpointed block inputs to host RAM;
    ``autocast`` (torch AMP) keeps the norms' fp32 inputs and outputs and, with eager attention,
    the softmax output in fp32; ``quantised_inputs_kept`` (QLoRA on bitsandbytes before 0.43.2)
    adds the inputs its 4-bit layers kept (``estimate.activation_shape``).
    """
    code = np.asarray(checkpoint_code, dtype=np.int64)
    tp = np.asarray(tensor_parallel, dtype=np.float64)
    if facts.kind is WorkloadKind.TABULAR:
        return np.zeros(np.broadcast(code, tp).shape, dtype=np.float64)
    scale = 2.0 if workload.precision.stores_fp32 else 1.0
    positions = positions_per_sample(workload, facts)
    per_token = activation_bytes_per_token_layer(workload, facts)
    amp = autocast and not workload.precision.stores_fp32
    if amp:
        per_token += AUTOCAST_EXTRA_BYTES_PER_HIDDEN * facts.hidden
    if eager_attention:
        heads = float(workload.architecture.heads) if workload.architecture else facts.hidden / 128
        score_bytes = EAGER_SCORE_BYTES_PER_HEAD_POSITION + (
            AUTOCAST_EXTRA_SCORE_BYTES if amp else 0.0
        )
        per_token += score_bytes * heads * positions
    if lora_dropout_targets and workload.fine_tuning is not FineTuning.FULL:
        per_token += lora_dropout_bytes_per_token_layer(workload.architecture, lora_dropout_targets)
    if quantised_inputs_kept and workload.fine_tuning is FineTuning.QLORA:
        per_token += quantised_inputs_bytes_per_token_layer(workload.architecture)
    block = positions * per_token * scale / asm.GB
    kept = CHECKPOINT_BYTES_PER_TOKEN_HIDDEN * positions * facts.hidden * scale / asm.GB
    if activation_offload:
        kept = 0.0
    layers = facts.layers
    per_code = np.array(
        [
            layers * block,
            0.5 * layers * block + 0.5 * layers * kept,
            layers * kept + block,
        ]
    )
    stored = per_code[code]
    if facts.kind is WorkloadKind.TOKENS and _has_vocab_logits(workload, facts):
        per_entry = (
            CHUNKED_LOGIT_BYTES_PER_TOKEN_VOCAB
            if workload.chunked_loss
            else LOGIT_BYTES_PER_TOKEN_VOCAB
        )
        stored = stored + (positions * _vocab(facts, workload) * per_entry / asm.GB)
    result: FloatArray = stored / tp
    return result


@dataclass(frozen=True, slots=True, eq=False)
class PlanMemory:
    """Per-row memory of (candidate, plan) rows, GB per GPU unless said otherwise."""

    weights_gb: FloatArray
    gradients_gb: FloatArray
    optimizer_gb: FloatArray
    activations_gb: FloatArray
    reserve_gb: FloatArray
    #: What torch's peak allocated bytes would show: states + max(gradients, activations).
    allocated_gb: FloatArray
    needed_gb: FloatArray
    #: Host RAM each node needs for offloaded (or paged) states.
    host_needed_gb: FloatArray
    fits: BoolArray


def plan_memory(
    workload: WorkloadProfile,
    facts: WorkloadFacts,
    states: ModelStates,
    *,
    gpus_per_node: npt.ArrayLike,
    nodes: npt.ArrayLike,
    gpu_memory_gb: npt.ArrayLike,
    host_memory_gb: npt.ArrayLike,
    micro_batch: npt.ArrayLike,
    checkpoint_code: npt.ArrayLike,
    sharding_stage: npt.ArrayLike,
    tensor_parallel: npt.ArrayLike,
    offload: npt.ArrayLike,
    activation_per_sample_gb: npt.ArrayLike | None = None,
    gradients_persist: npt.ArrayLike = False,
) -> PlanMemory:
    """GPU memory of every (candidate, plan) row; all arguments broadcast together.

    ``gradients_persist`` marks rows whose gradients stay allocated while the next micro-batch's
    activations are stored (gradient accumulation over several micro-batches, or a
    ``zero_grad`` that zeroes instead of freeing): gradients and activations then add up.

    ``sharding_stage`` is 0 (DDP) to 3 (ZeRO-3/FSDP); ``activation_per_sample_gb`` may be given
    precomputed (``activation_gb_per_sample``) when the caller evaluates many micro-batches.
    """
    gpus = np.asarray(gpus_per_node, dtype=np.float64)
    node_count = np.asarray(nodes, dtype=np.float64)
    tp = np.asarray(tensor_parallel, dtype=np.float64)
    stage = np.asarray(sharding_stage, dtype=np.int64)
    off = np.asarray(offload, dtype=np.bool_)
    dp = np.maximum(gpus * node_count / tp, 1.0)
    weights = states.weights_gb / tp
    gradients = np.broadcast_to(states.gradients_gb / tp, weights.shape)
    optimizer = np.broadcast_to(states.optimizer_gb / tp, weights.shape)
    optimizer = np.where(stage >= 1, optimizer / dp, optimizer)
    gradients = np.where(stage >= 2, gradients / dp, gradients)
    full_shard = stage >= 3
    prefetch = PREFETCH_BLOCKS * states.block_weights_gb / tp
    weight_shard = weights / dp
    weights = np.where(full_shard, weight_shard + prefetch, weights)
    # Offload moves optimiser states and gradients (and, fully sharded, the weights) to the host;
    # the GPU keeps the prefetch buffer. Paged optimiser states always live in pageable memory.
    host = np.where(off, optimizer + gradients, 0.0)
    host = np.where(off & full_shard, host + weight_shard, host)
    if states.paged:
        host = np.where(off, host, host + optimizer)
        optimizer = np.zeros_like(optimizer)
    optimizer = np.where(off, 0.0, optimizer)
    gradients = np.where(off, 0.0, gradients)
    weights = np.where(off & full_shard, prefetch, weights)
    per_sample = (
        activation_gb_per_sample(workload, facts, checkpoint_code, tp)
        if activation_per_sample_gb is None
        else np.asarray(activation_per_sample_gb, dtype=np.float64)
    )
    activations = np.asarray(micro_batch, dtype=np.float64) * per_sample
    reserve = np.broadcast_to(np.float64(CUDA_CONTEXT_GB), weights.shape)
    # Gradients fill in as the backward pass frees each block's activations: the two peak at
    # opposite ends of the backward pass, so the larger of them counts, not their sum.
    persist = np.asarray(gradients_persist, dtype=np.bool_)
    fragmented = activations * (1.0 + ALLOCATOR_FRAGMENTATION)
    dynamic = np.where(persist, gradients + fragmented, np.maximum(gradients, fragmented))
    needed = weights + optimizer + dynamic
    peak = np.where(persist, gradients + activations, np.maximum(gradients, activations))
    allocated = weights + optimizer + peak
    # Each node's host holds the offloaded share of its GPUs.
    host_per_node = host * gpus
    usable = np.asarray(gpu_memory_gb, dtype=np.float64) - CUDA_CONTEXT_GB
    host_mem = np.asarray(host_memory_gb, dtype=np.float64)
    host_room = host_mem - asm.HOST_BASE_MEMORY_GB * np.maximum(gpus, 1.0)
    # Offloading needs a host whose RAM is known to hold the offloaded states.
    host_ok = (host_per_node <= 0.0) | (host_per_node <= host_room)
    fits = (needed <= usable) & host_ok
    return PlanMemory(
        weights_gb=np.asarray(weights, dtype=np.float64),
        gradients_gb=np.asarray(gradients, dtype=np.float64),
        optimizer_gb=np.asarray(optimizer, dtype=np.float64),
        activations_gb=activations,
        reserve_gb=np.asarray(reserve, dtype=np.float64),
        allocated_gb=np.asarray(allocated, dtype=np.float64),
        needed_gb=needed,
        host_needed_gb=np.asarray(host_per_node, dtype=np.float64),
        fits=np.asarray(fits, dtype=np.bool_),
    )


@dataclass(frozen=True, slots=True, eq=False)
class MemoryArrays:
    """Per-row memory estimate under each row's plan; GB (1e9 bytes), per device."""

    weights_gb: FloatArray
    gradients_gb: FloatArray
    optimizer_gb: FloatArray
    #: Activations of one device's micro-batch (for CPU-bound frameworks: the data working set).
    activations_gb: FloatArray
    #: Framework reserve (CUDA context) on GPUs; the host base on host-RAM rows.
    overhead_gb: FloatArray
    #: Whole-job model states (GB), unsharded.
    model_states_total_gb: float
    needed_gb: FloatArray
    #: Memory of one device (GPU memory, or host RAM for CPU execution); NaN when unknown.
    available_gb: FloatArray
    usable_gb: FloatArray
    fits: BoolArray
    available_known: BoolArray
    #: (usable - needed) / usable, clipped to [-1, 1]; 0 where the device memory is unknown.
    headroom_ratio: FloatArray
    #: True where the state lives on GPUs, False where it lives in host RAM.
    on_gpu: BoolArray
    #: Host-RAM minimum asked by the workload (0 when none) and whether each row meets it.
    host_min_gb: float
    host_fits: BoolArray
    host_known: BoolArray
    inputs_used: tuple[str, ...]
    #: Host RAM per node the plan's offloaded (or paged) states take, and the room for them.
    host_needed_gb: FloatArray
    host_usable_gb: FloatArray

    @property
    def pressure(self) -> FloatArray:
        """The binding share of memory used per row: device need / usable, or host's if worse."""
        with np.errstate(divide="ignore", invalid="ignore"):
            device = self.needed_gb / self.usable_gb
            host = np.where(self.host_needed_gb > 0, self.host_needed_gb / self.host_usable_gb, 0.0)
        worst: FloatArray = np.fmax(device, np.where(np.isnan(host), np.inf, host))
        return worst

    def breakdown(self, row: int) -> MemoryEstimate:
        """The schema view of one row."""
        return MemoryEstimate(
            weights_gb=float(self.weights_gb[row]),
            gradients_gb=float(self.gradients_gb[row]),
            optimizer_gb=float(self.optimizer_gb[row]),
            activations_gb=float(self.activations_gb[row]),
            overhead_gb=float(self.overhead_gb[row]),
            total_gb=float(self.needed_gb[row]),
            inputs_used=self.inputs_used,
        )


def tabular_working_set_gb(workload: WorkloadProfile) -> float:
    """Host RAM a CPU-bound framework needs for its data, without the base."""
    factor = asm.HOST_MEMORY_FACTOR.get(workload.framework, max(asm.HOST_MEMORY_FACTOR.values()))
    return workload.dataset_size_gb * factor


@dataclass(frozen=True, slots=True, eq=False)
class PlanColumns:
    """One plan per row, as code arrays (see ``estimate.plans`` for the codes)."""

    micro_batch: IntArray
    checkpoint_code: IntArray
    sharding_stage: IntArray
    tensor_parallel: IntArray
    offload: BoolArray


def estimate_memory(
    workload: WorkloadProfile,
    *,
    gpu_count: npt.ArrayLike,
    gpu_memory_gb: npt.ArrayLike,
    memory_gb: npt.ArrayLike,
    nodes: npt.ArrayLike,
    plan: PlanColumns,
    facts: WorkloadFacts | None = None,
) -> MemoryArrays:
    """Memory needed per device on every row under that row's ``plan``, and whether it fits.

    ``gpu_count`` and ``gpu_memory_gb`` are per node and per GPU (0 for CPU rows); ``memory_gb``
    is the host RAM per node (NaN when unknown); ``nodes`` the node count of each row.
    """
    facts = facts or describe_workload(workload)
    gpus = np.asarray(gpu_count, dtype=np.float64)
    gpu_mem = np.asarray(gpu_memory_gb, dtype=np.float64)
    host_mem = np.asarray(memory_gb, dtype=np.float64)
    node_count = np.asarray(nodes, dtype=np.float64)
    n = gpus.shape[0]
    zeros = np.zeros(n, dtype=np.float64)
    host_known = host_mem == host_mem
    if facts.kind is WorkloadKind.TABULAR:
        on_gpu = np.zeros(n, dtype=np.bool_)
        weights = gradients = optimizer = zeros
        activations = np.full(n, tabular_working_set_gb(workload))
        overhead = np.full(n, asm.HOST_BASE_MEMORY_GB, dtype=np.float64)
        per_device = overhead + activations
        if workload.is_data_processing:
            # Issue 14: a data-processing job splits its working set over the nodes and spills
            # what does not fit (``estimate.cluster`` charges the time), so only its share counts.
            from artenic_opt.estimate.cluster import working_set_gb

            node_share = np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)
            activations = np.full(n, working_set_gb(workload))
            per_device = overhead + activations / node_share
        total_states = 0.0
        host_ok = np.ones(n, dtype=np.bool_)
        host_needed = zeros
        host_room = host_mem
        used = (*facts.inputs_used, "offering.memory_gb")
    else:
        on_gpu = gpus > 0
        states = model_states(workload, facts)
        total_states = states.total_gb
        gpu_rows = plan_memory(
            workload,
            facts,
            states,
            gpus_per_node=np.maximum(gpus, 1.0),
            nodes=node_count,
            gpu_memory_gb=gpu_mem,
            host_memory_gb=host_mem,
            micro_batch=plan.micro_batch,
            checkpoint_code=plan.checkpoint_code,
            sharding_stage=plan.sharding_stage,
            tensor_parallel=plan.tensor_parallel,
            offload=plan.offload,
        )
        # Deep learning on a CPU-only row: the whole replica plus activations in host RAM.
        cpu_activations = plan.micro_batch * activation_gb_per_sample(workload, facts, 0, 1.0)
        weights = np.where(on_gpu, gpu_rows.weights_gb, states.weights_gb)
        gradients = np.where(on_gpu, gpu_rows.gradients_gb, states.gradients_gb)
        optimizer = np.where(on_gpu, gpu_rows.optimizer_gb, states.optimizer_gb)
        activations = np.where(on_gpu, gpu_rows.activations_gb, cpu_activations)
        overhead = np.where(on_gpu, gpu_rows.reserve_gb, asm.HOST_BASE_MEMORY_GB)
        per_device = np.where(
            on_gpu, gpu_rows.needed_gb, states.total_gb + cpu_activations + overhead
        )
        host_room = host_mem - asm.HOST_BASE_MEMORY_GB * np.maximum(gpus, 1.0)
        host_needed = np.where(on_gpu, gpu_rows.host_needed_gb, 0.0)
        host_ok = (host_needed <= 0.0) | (host_needed <= host_room)
        used = (*facts.inputs_used, *_DEVICE_INPUTS)

    available = np.where(on_gpu, gpu_mem, host_mem)
    known = available == available
    usable = np.where(on_gpu, available - CUDA_CONTEXT_GB, available)
    fits = ((per_device <= usable) & host_ok) | ~known
    if facts.kind is WorkloadKind.TABULAR and workload.is_data_processing:
        fits = (overhead <= usable) | ~known  # the rest spills (issue 14)
    pressure = np.divide(per_device, usable, out=np.full(n, np.inf), where=usable > 0)
    headroom = np.where(known, np.clip(1.0 - pressure, -1.0, 1.0), 0.0)

    host_min = float(workload.min_system_memory_gb or 0.0)
    if host_min > 0:
        used = (*used, "min_system_memory_gb")
        host_fits = (host_mem >= host_min) | ~host_known
    else:
        host_fits = np.ones(n, dtype=np.bool_)

    return MemoryArrays(
        weights_gb=np.asarray(weights, dtype=np.float64),
        gradients_gb=np.asarray(gradients, dtype=np.float64),
        optimizer_gb=np.asarray(optimizer, dtype=np.float64),
        activations_gb=np.asarray(activations, dtype=np.float64),
        overhead_gb=np.asarray(overhead, dtype=np.float64),
        model_states_total_gb=total_states,
        needed_gb=np.asarray(per_device, dtype=np.float64),
        available_gb=available,
        usable_gb=usable,
        fits=np.asarray(fits, dtype=np.bool_),
        available_known=known,
        headroom_ratio=headroom,
        on_gpu=on_gpu,
        host_min_gb=host_min,
        host_fits=host_fits,
        host_known=host_known,
        inputs_used=used,
        host_needed_gb=np.asarray(host_needed, dtype=np.float64),
        host_usable_gb=np.asarray(host_room, dtype=np.float64),
    )
