"""The calibrated throughput model: seconds per optimiser step of one plan on one hardware row.

Every input is a NumPy array (or scalar) broadcast over rows, so the same function serves the
advisor (one workload, every catalog row and plan) and the calibration (one row per published
measurement, ``bench/bench_estimator.py --fit``).

Model (per row; FLOPs per *position*: a token, or 1/197 of an image, see ``workload``):

* compute: ``(model FLOPs + recompute FLOPs) x positions / tp / (peak x efficiency)``.
  Recompute is counted once, as hardware work (full checkpointing adds a forward pass, selective
  the attention core); the efficiency is never lowered for it.
* efficiency = family factor (fitted per GPU family) x regime factor x stack factor (fitted per
  framework stack) x class factor (``cnn_factor`` for convolutional models) x fp8 factor (fp8
  rows) x latency saturation x ``h / (h + h0)`` (hidden size, saturating); capped at 0.95.
* regime: a model is ``llm`` (decoder LLMs), ``encoder`` (BERT/ViT-style transformers) or
  ``cnn`` (``regime_of``). Tensor-core peaks are reached very differently by long-sequence
  matmul-heavy LLMs and by small encoders / convolutions (BN, ReLU, softmax, layout
  transforms between the GEMMs), and by how much each GPU generation's tensor rate outruns its
  other units: measured, A100 and H100 run ResNet-50 at a lower share of their peak than V100,
  A10 or RTX 4090 do. So the encoder regime has a global ``encoder_factor`` and each family a
  multiplier per non-LLM regime (``regime[family][encoder|cnn]``), fitted only where calib rows
  of that family and regime exist and shrunk towards 1 (``bench/bench_estimator.py``
  ``PRIOR_REGIME``); an unfitted pair is 1 (the global class factor alone).
* latency saturation: ``w / (w + t0_layer_s)``, ``w`` = one layer's forward work of a
  micro-batch on this device in seconds at peak (``forward FLOPs x positions / layers / peak``).
  A kernel that short loses a fixed latency (launches, wave tails, the small non-GEMM kernels
  around each GEMM), so small micro-batches, small models and fast GPUs saturate later.
* attention: the attention core (``QK^T``, softmax, ``AV``: flash attention) runs at
  ``attention_factor`` x the GEMM efficiency; its share of the work grows with the sequence,
  so long-context runs slow down more than their FLOPs alone say (measured: llm-foundry MPT
  tokens/s per GPU fall faster with SeqLen than the FLOP count does, more so on H100).
* memory traffic (the bandwidth side of the roofline, added because element-wise kernels run
  between the matmuls, not beside them): activation bytes ``c_act x layers x hidden`` per position
  for transformers (``forward FLOPs / intensity`` for CNNs), doubled for fp32/TF32 tensors, plus
  three reads of the weight shard per micro-step, plus the optimiser step
  (``OPTIMIZER_STEP_BYTES`` per trainable parameter of the local shard) once per step, each over
  the GPU's memory bandwidth.
* communication per step: gradients with a ring all-reduce, ``2(n-1)/n x bytes``, hierarchical
  (in-node over the interconnect, then across nodes over the node's network); ZeRO-3/FSDP full
  shard moves 1.5x the data-parallel volume (parameter all-gathers, ZeRO paper sec. 7); tensor
  parallel adds four all-reduces of the activations per layer per micro-step (Megatron-LM), not
  overlapped. Gradient traffic overlaps the compute by the fitted ``overlap`` share.
* CPU offload: gradients down and parameters up over PCIe once per step, plus the CPU optimiser
  step (``CPU_ADAM_PARAMS_PER_S``).

Free parameters (``throughput_fit.json``; 7 families + 6 stacks + 12 regime multipliers +
9 scalars = 34 at the current fit, on 88 calib rows):

* ``family``: level of each GPU family on LLMs;
* ``stack``: framework stack (FSDP = 1, the reference);
* ``regime``: per-family encoder / CNN multipliers (see above);
* ``encoder_factor``, ``cnn_factor``: global level of the encoder and CNN regimes;
* ``fp8_factor``: share of the fp8 peak reached, relative to bf16's share of its peak;
* ``t0_layer_s``: fixed latency per layer and micro-step (seconds);
* ``h0_hidden``: hidden size at which utilisation is half its large-model value;
* ``act_bytes_per_layer_hidden``: activation bytes per position, layer and hidden unit (fp16);
* ``cnn_flops_per_byte``: arithmetic intensity of a CNN's element-wise traffic;
* ``overlap``: share of the compute time that gradient traffic hides behind;
* ``attention_factor``: efficiency of the attention core relative to the GEMMs.

A family factor can exceed 1: only its product with the other factors is an efficiency, and
that product is capped.

Decisions:

* The fitted constants live in ``estimate/data/throughput_fit.json`` (written by
  ``python bench/bench_estimator.py --fit`` from the ``calib`` rows of ``measurements.csv``
  only); this module only reads it.
* A GPU outside the fitted families takes the factor of the family it shares silicon with
  (``FAMILY_OF``: H200/GH200/H100 PCIe/NVL -> H100, L4/A10G -> A10, L40S -> RTX 4090 (AD102;
  its factor halved, ``FAMILY_PEAK_SCALE``), ...),
  else the geometric mean of the fitted datacenter NVIDIA families (A100, H100, V100).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray
from artenic_opt._internal.files import read_package_data
from artenic_opt.estimate import assumptions as asm

FIT_FILE: Final = "throughput_fit.json"

#: GPU type (catalog canonical name) -> fitted family. Same silicon shares a factor.
FAMILY_OF: Final[dict[str, str]] = {
    "A100 40GB": "A100",
    "A100 80GB": "A100",
    "H100 SXM": "H100",
    "H100 PCIe": "H100",
    "H100 NVL": "H100",
    "H200": "H100",
    "GH200": "H100",
    "V100 16GB": "V100",
    "V100 32GB": "V100",
    "V100S 32GB": "V100",
    "A10": "A10",
    "A10G": "A10",
    "L4": "A10",
    "RTX 4090": "RTX 4090",
    "L40S": "RTX 4090",
    "RTX A6000": "RTX A6000",
    "MI300X": "MI300X",
}
#: Scale of the family factor a GPU inherits when its stated peak is on another basis than its
#: family's. The RTX 4090's 165.2 TFLOPS is the GeForce fp16/bf16 rate with fp32 accumulate,
#: half its 330.3 fp16-accumulate rate (karpathy/llm.c llmc/mfu.h@0e69e3a, Ada whitepaper
#: table; gpu_specs.csv RTX 4090 row); the L40S's 362 (gpu_specs.csv, datasheet bf16 dense)
#: is the full fp32-accumulate rate of the same AD102 silicon. The 4090's factor is relative
#: to a half-rate peak, so on the L40S it counts half: L40S / RTX 4090 = 0.5 x 362 / 165.2 =
#: 1.10, the ratio of their SM counts at the same 2520 MHz boost (142 / 128 = 1.11).
FAMILY_PEAK_SCALE: Final[dict[str, float]] = {"L40S": 165.2 / 330.3}
#: Families whose geometric mean serves a GPU no family covers.
DEFAULT_FAMILIES: Final = ("A100", "H100", "V100")
#: Stack names of the measurement table; a workload's stack defaults from its framework.
STACKS: Final = (
    "fsdp",
    "nemo",
    "megatron",
    "torchtune",
    "hf_trainer",
    "hf_accelerate",
    "deepspeed",
    "pytorch_ddp",
    "lightning",
    "llmc",
    "tensorflow",
    "mxnet",
    "ngc",
    "other",
)


@dataclass(frozen=True, slots=True)
class Coefficients:
    """The free parameters of the model (fitted; see the module docstring)."""

    family: dict[str, float]
    stack: dict[str, float]
    #: Per family, the multiplier of the encoder / CNN regime (absent = 1: the global class
    #: factor alone). Fitted only for (family, regime) pairs with calib rows, shrunk to 1.
    regime: dict[str, dict[str, float]]
    encoder_factor: float
    cnn_factor: float
    fp8_factor: float
    t0_layer_s: float
    h0_hidden: float
    act_bytes_per_layer_hidden: float
    cnn_flops_per_byte: float
    overlap: float
    #: Efficiency of the attention core (flash attention) relative to the GEMMs' (1 = same).
    attention_factor: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def family_factor(self, gpu_type: str | None, regime: str = "llm") -> float:
        """Efficiency factor of ``gpu_type``'s family in ``regime`` (llm, encoder or cnn).

        ``llm``: the family factor. ``encoder``: x ``encoder_factor`` x the family's encoder
        multiplier. ``cnn``: the family's CNN multiplier (the global ``cnn_factor`` is applied
        by ``step_time`` from ``is_cnn``).
        """
        name = FAMILY_OF.get(gpu_type or "", gpu_type or "")
        if name in self.family:
            base = self.family[name] * FAMILY_PEAK_SCALE.get(gpu_type or "", 1.0)
        else:
            known = [self.family[f] for f in DEFAULT_FAMILIES if f in self.family]
            base = float(math.exp(sum(math.log(v) for v in known) / len(known))) if known else 0.4
        if regime == "llm":
            return base
        extra = self.regime.get(name, {}).get(regime, 1.0)
        return base * extra * (self.encoder_factor if regime == "encoder" else 1.0)

    def stack_factor(self, stack: str) -> float:
        if stack in self.stack:
            return self.stack[stack]
        # Unfitted stacks: plain HF/Accelerate/DeepSpeed run eager PyTorch like torchtune's
        # recipes; Megatron is NeMo's engine; the rest are taken as plain DDP.
        alias = {
            "hf_trainer": "torchtune",
            "hf_accelerate": "torchtune",
            "deepspeed": "fsdp",
            "megatron": "nemo",
        }.get(stack, "pytorch_ddp")
        return self.stack.get(alias, 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "family": self.family,
            "stack": self.stack,
            "regime": self.regime,
            "encoder_factor": self.encoder_factor,
            "cnn_factor": self.cnn_factor,
            "fp8_factor": self.fp8_factor,
            "t0_layer_s": self.t0_layer_s,
            "h0_hidden": self.h0_hidden,
            "act_bytes_per_layer_hidden": self.act_bytes_per_layer_hidden,
            "cnn_flops_per_byte": self.cnn_flops_per_byte,
            "overlap": self.overlap,
            "attention_factor": self.attention_factor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Coefficients:
        return cls(
            family={str(k): float(v) for k, v in data["family"].items()},
            stack={str(k): float(v) for k, v in data["stack"].items()},
            regime={
                str(k): {str(r): float(x) for r, x in v.items()}
                for k, v in data.get("regime", {}).items()
            },
            encoder_factor=float(data.get("encoder_factor", 1.0)),
            cnn_factor=float(data["cnn_factor"]),
            fp8_factor=float(data["fp8_factor"]),
            t0_layer_s=float(data["t0_layer_s"]),
            h0_hidden=float(data["h0_hidden"]),
            act_bytes_per_layer_hidden=float(data["act_bytes_per_layer_hidden"]),
            cnn_flops_per_byte=float(data["cnn_flops_per_byte"]),
            overlap=float(data["overlap"]),
            attention_factor=float(data.get("attention_factor", 1.0)),
            meta=dict(data.get("meta", {})),
        )


@functools.cache
def fitted_coefficients() -> Coefficients:
    """The shipped fit (``estimate/data/throughput_fit.json``), parsed once per process."""
    text = read_package_data("artenic_opt.estimate", FIT_FILE)
    return Coefficients.from_json(json.loads(text))


@dataclass(frozen=True, slots=True, eq=False)
class StepTime:
    """Seconds per optimiser step and positions it processes, per row."""

    seconds: FloatArray
    positions: FloatArray
    compute_seconds: FloatArray
    memory_seconds: FloatArray
    comm_seconds: FloatArray
    efficiency: FloatArray


def regime_of(model_class: str, is_cnn: bool) -> str:
    """The efficiency regime of a model: ``cnn`` (convolutional), ``encoder`` (BERT/ViT-style
    encoders and other non-LLM transformers) or ``llm`` (decoder LLMs, the default)."""
    if is_cnn:
        return "cnn"
    return "llm" if model_class == "llm" else "encoder"


def f(values: npt.ArrayLike) -> FloatArray:
    """``values`` as a float64 array."""
    return np.asarray(values, dtype=np.float64)


def _ring(n: FloatArray) -> FloatArray:
    out: FloatArray = 2.0 * (n - 1.0) / np.maximum(n, 1.0)
    return out


def step_time(
    *,
    flops_per_position: npt.ArrayLike,
    recompute_flops_per_position: npt.ArrayLike,
    positions_per_micro_batch: npt.ArrayLike,
    grad_accum: npt.ArrayLike,
    layers: npt.ArrayLike,
    hidden: npt.ArrayLike,
    params: npt.ArrayLike,
    trainable_params: npt.ArrayLike,
    weight_bytes: npt.ArrayLike,
    grad_bytes: npt.ArrayLike,
    is_cnn: npt.ArrayLike,
    peak_tflops: npt.ArrayLike,
    bandwidth_gbps: npt.ArrayLike,
    intra_gbps: npt.ArrayLike,
    inter_gbps: npt.ArrayLike,
    gpus_per_node: npt.ArrayLike,
    nodes: npt.ArrayLike,
    tensor_parallel: npt.ArrayLike,
    zero_stage: npt.ArrayLike,
    offload: npt.ArrayLike,
    family_factor: npt.ArrayLike,
    stack_factor: npt.ArrayLike,
    fp8: npt.ArrayLike,
    coefficients: Coefficients,
    attention_flops_per_position: npt.ArrayLike = 0.0,
) -> StepTime:
    """Seconds per optimiser step of every row (see the module docstring for the model).

    NaN bandwidths fall back to ``assumptions`` (memory: 5 GB/s per peak TFLOPS;
    in-node: PCIe 4 x16; inter-node: the slowest published fabric).
    ``attention_flops_per_position``: the attention-core share of ``flops_per_position`` +
    ``recompute_flops_per_position`` (hardware work of this plan), run at ``attention_factor``
    times the GEMM efficiency.
    """
    c = coefficients
    fpp, rfp, mb_pos, accum = (
        f(flops_per_position),
        f(recompute_flops_per_position),
        f(positions_per_micro_batch),
        np.maximum(f(grad_accum), 1.0),
    )
    lay, hid, p, tp_ = f(layers), f(hidden), f(params), f(trainable_params)
    wb, gb = f(weight_bytes), f(grad_bytes)
    cnn = np.asarray(is_cnn, dtype=bool)
    peak = f(peak_tflops) * 1e12
    bw = f(bandwidth_gbps)
    bw = np.where(bw > 0, bw, peak / 1e12 * asm.FALLBACK_GBPS_PER_TFLOPS) * 1e9
    intra = f(intra_gbps)
    intra = np.where(intra > 0, intra, asm.FALLBACK_INTRA_NODE_GBPS) * 1e9
    inter = f(inter_gbps)
    inter = np.where(inter > 0, inter, asm.FALLBACK_INTER_NODE_GBPS) * 1e9
    gpn = np.maximum(f(gpus_per_node), 1.0)
    nn = np.maximum(f(nodes), 1.0)
    tp = np.clip(f(tensor_parallel), 1.0, None)
    zero = f(zero_stage)
    off = np.asarray(offload, dtype=bool)

    # Utilisation: saturating in micro-batch tokens per device and in hidden size (CNNs: the
    # image count in ViT-equivalent positions; no hidden-size term).
    tokens_dev = mb_pos / tp
    # Per-layer forward work of one micro-step, in seconds at peak: a kernel this short loses
    # a fixed latency ``t0_layer_s`` (launches, wave tails, small non-GEMM kernels).
    layer_s = fpp / 3.0 * tokens_dev / np.maximum(lay, 1.0) / peak
    sat_m = layer_s / (layer_s + c.t0_layer_s)
    sat_h = np.where(cnn, 1.0, hid / (hid + c.h0_hidden))
    eff = (
        f(family_factor)
        * f(stack_factor)
        * np.where(cnn, c.cnn_factor, 1.0)
        * np.where(np.asarray(fp8, dtype=bool), c.fp8_factor, 1.0)
        * sat_m
        * sat_h
    )
    eff = np.minimum(eff, asm.MAX_EFFICIENCY)
    att = np.minimum(f(attention_flops_per_position), fpp + rfp)
    work = fpp + rfp - att + att / c.attention_factor
    compute = work * mb_pos / tp / (peak * eff)
    # Activation traffic is in the compute dtype: fp32/TF32 tensors move twice the bytes of
    # fp16/bf16 ones (``grad_bytes`` is that element size: 4 or 2).
    act_bytes = np.where(
        cnn,
        fpp / 3.0 / c.cnn_flops_per_byte,
        c.act_bytes_per_layer_hidden * lay * hid,
    ) * (gb / 2.0)
    memory = (act_bytes * mb_pos / tp + asm.WEIGHT_READS_PER_MICRO_STEP * p / tp * wb) / bw
    micro = compute + memory

    dp = gpn * nn / tp
    dp_intra = np.maximum(gpn / tp, 1.0)
    shard = np.where(zero >= 1, dp, 1.0)
    local_trainable = tp_ / tp / shard
    optimizer = np.where(
        off,
        tp_ / tp / shard * asm.OFFLOAD_BYTES_PER_PARAM / (asm.PCIE_GBPS * 1e9)
        + tp_ / tp / shard / asm.CPU_ADAM_PARAMS_PER_S,
        local_trainable * asm.OPTIMIZER_STEP_BYTES / bw,
    )
    grads = tp_ / tp * gb
    volume = np.where(zero >= 3, asm.ZERO3_COMM_FACTOR, 1.0) * grads
    comm = np.where(dp > 1, volume * _ring(dp_intra) / intra + volume * _ring(nn) / inter, 0.0)
    # ZeRO-3 gathers the weights again for every micro-step.
    comm = comm * np.where(zero >= 3, accum, 1.0)
    exposed = np.maximum((1.0 - c.overlap) * comm, comm - c.overlap * compute * accum)
    tp_comm = np.where(
        tp > 1,
        asm.TP_ALL_REDUCES_PER_LAYER
        * lay
        * mb_pos
        * hid
        * asm.ACTIVATION_COMM_BYTES
        * _ring(tp)
        / intra,
        0.0,
    )
    seconds = accum * (micro + tp_comm) + optimizer + exposed
    positions = dp * accum * mb_pos
    return StepTime(
        seconds=seconds,
        positions=positions,
        compute_seconds=accum * compute,
        memory_seconds=accum * memory + optimizer,
        comm_seconds=exposed + accum * tp_comm,
        efficiency=eff,
    )
