"""Activation bytes one token keeps per transformer block, from the model's architecture.

``estimate.memory`` multiplies these per-token figures by the positions, layers and micro-batch;
this module only reads the shape (hidden, query and key/value widths, FFN size, gated or plain
MLP, experts per token, tied embeddings) and says how many bytes each stored tensor takes.

Decisions (sources beside each constant):

* Tensors are counted one by one as Korthikanti et al. 2022 ("Reducing Activation Recomputation
  in Large Transformer Models", sec. 4.1) do, with flash attention (no ``s^2`` score tensor):
  a GPT-3-shaped block gives the paper's ``34 x hidden`` bytes, Llama 2 7B ``37.5 x hidden``.
* The block's tensors (16-bit bytes): the two norm inputs (``4h``), the QKV input (``2h``), Q
  and the attention output (``4 x q``, ``q = heads x head_dim``), K and V (``4 x kv``), the MLP
  input (``2h``) and the MLP: gated (gate, up, activation, product) ``8 x ffn``, plain (fc1 and
  GELU outputs) ``4 x ffn``, times the experts a token visits; plain-MLP families (GPT-2, BERT,
  ViT, T5) keep two dropout masks (``2h``). Eager attention (no flash/SDPA kernels) adds the
  paper's ``5 x heads x seq`` per token; torch autocast keeps fp32 norm tensors and softmax.
  LoRA dropout keeps its output and mask for each adapter's input.
* bitsandbytes before 0.43.2 made a 4-bit layer keep its input for the backward pass although
  its frozen weight needs no gradient: ``MatMul4Bit.forward`` ends with ``ctx.tensors = (A, B)``
  in 0.42.0 (``bitsandbytes/autograd/_functions.py``), changed to ``(None, B)`` by PR #1270
  (commit 9e75374, 2024-07-16, "fix QLoRA mem bug: delete useless buffered activation"),
  released in 0.43.2, whose changelog calls the memory "erroneously allocated". A QLoRA run on
  such a version keeps, per token and block, each quantised layer's input: the QKV input
  (``2h``, one tensor for Q, K and V), the output projection's input (``2 x q``: a reshaped copy
  of attention's output), the MLP input (``2h``) and the down projection's input (``2 x ffn``),
  the last two per expert a token visits. Current bitsandbytes and torchao's ``linear_nf4``
  (torchtune) keep only the quantised weight, so the advisor does not add it; the published
  rows measured on the old versions (LitGPT's, which pinned ``bitsandbytes==0.42.0``) do.
* Gated MLP and tied embeddings are read from the parameter count (the schema carries counts,
  not the family's flags): the per-layer parameters after attention are nearer ``3 x hidden x
  ffn`` (gated) than ``2 x``; the parameters after the blocks nearer one ``vocab x hidden``
  matrix (tied) than two.
"""

from __future__ import annotations

from typing import Final

from artenic_opt.estimate.workload import WorkloadFacts
from artenic_opt.schemas import ModelArchitecture, WorkloadProfile

#: Korthikanti et al. 2022, eq. 2 without the ``5as/h`` score term (flash attention): the
#: per-token bytes of a block when the architecture is unknown, times ``hidden``.
ACTIVATION_BYTES_PER_TOKEN_HIDDEN: Final = 34.0
#: Per-tensor activation bytes (16 bit) of one block; Korthikanti et al. 2022 sec. 4.1.
NORM_AND_INPUT_BYTES_PER_HIDDEN: Final = 8.0  # two norm inputs, QKV input, MLP input: 2h each
GATED_MLP_BYTES_PER_FFN: Final = 8.0  # gate, up, activation, product: 2 B each
PLAIN_MLP_BYTES_PER_FFN: Final = 4.0  # fc1 output, GELU output: 2 B each
DROPOUT_MASK_BYTES_PER_HIDDEN: Final = 2.0  # attention and MLP output dropout masks, 1 B each
#: Stored attention scores without flash kernels: softmax (2 B) + dropout mask (1 B) + dropout
#: output (2 B) per head and key position (Korthikanti et al. 2022, the ``5as^2b`` term).
EAGER_SCORE_BYTES_PER_HEAD_POSITION: Final = 5.0
#: torch autocast keeps LayerNorm/RMSNorm in fp32: their saved fp32 inputs cost 2 B more per
#: element than 16-bit ones, for the two norms of a block (4h); the softmax output is fp32 too
#: (4 B instead of 2) and the matmul after it keeps a 16-bit cast of the dropped scores (+2 B,
#: the dropout output itself is not saved): +2 B per head and key position.
AUTOCAST_EXTRA_BYTES_PER_HIDDEN: Final = 4.0
AUTOCAST_EXTRA_SCORE_BYTES: Final = 2.0
#: LoRA dropout output (2 B) and its mask (1 B) per element of an adapted layer's input.
LORA_DROPOUT_BYTES_PER_INPUT: Final = 3.0
#: A 16-bit input element a quantised layer kept under bitsandbytes < 0.43.2 (module docstring).
QUANTISED_INPUT_BYTES: Final = 2.0


def dims(arch: ModelArchitecture) -> tuple[float, float, float]:
    """Hidden size, query width and key/value width of a transformer architecture."""
    hidden = float(arch.hidden)
    q_dim = float(arch.heads * arch.head_dim) if arch.head_dim else hidden
    kv_dim = float(arch.kv_heads * arch.head_dim) if arch.head_dim else hidden
    if not arch.head_dim and arch.heads and arch.kv_heads:
        kv_dim = hidden * arch.kv_heads / arch.heads
    return hidden, q_dim, kv_dim


def is_gated(arch: ModelArchitecture) -> bool:
    """Whether the MLP has three matrices (SwiGLU/GeGLU) rather than two: the per-layer
    parameters left after attention are nearer ``3 x hidden x ffn`` than ``2 x hidden x ffn``."""
    hidden, q_dim, kv_dim = dims(arch)
    per_layer = (arch.params_m * 1e6 - arch.vocab * hidden) / max(arch.layers, 1)
    mlp = per_layer - hidden * (2 * q_dim + 2 * kv_dim)
    ffn = arch.ffn_size * max(arch.experts, 1)
    return mlp > 2.5 * hidden * ffn


def embedding_matrices(arch: ModelArchitecture) -> float:
    """1 when the input embedding and the output head are tied, else 2: the parameters left
    after the blocks are nearer one ``vocab x hidden`` matrix than two."""
    hidden, q_dim, kv_dim = dims(arch)
    mlp_mats = 3.0 if is_gated(arch) else 2.0
    blocks = arch.layers * (
        hidden * (2 * q_dim + 2 * kv_dim) + mlp_mats * hidden * arch.ffn_size * arch.experts
    )
    rest = arch.params_m * 1e6 - blocks
    return 1.0 if rest < 1.5 * arch.vocab * hidden else 2.0


def lora_dropout_bytes_per_token_layer(arch: ModelArchitecture | None, targets: str) -> float:
    """16-bit bytes the LoRA dropout keeps per token and block: its output (2 B) and mask (1 B)
    for the input of every adapter (PEFT and LitGPT apply one dropout per adapter).
    ``targets``: ``qv`` (PEFT adapters on query and value: two inputs of ``hidden``),
    ``qkv_fused`` (LitGPT's ``LoRAQKVLinear``: one dropout on the fused QKV input), ``all`` (PEFT
    on every linear layer: Q, K, V, output, the MLP's input matrices and its down projection)
    or ``all_fused`` (LitGPT on every linear layer, the QKV input once)."""
    if arch is None or arch.layers <= 0:
        return 0.0
    hidden, q_dim, _ = dims(arch)
    mlp_inputs = (2.0 if is_gated(arch) else 1.0) * hidden + float(arch.ffn_size)
    inputs = {
        "qv": 2.0 * hidden,
        "qkv_fused": hidden,
        "all": 3.0 * hidden + q_dim + mlp_inputs,
        "all_fused": hidden + q_dim + mlp_inputs,
    }.get(targets, 0.0)
    return LORA_DROPOUT_BYTES_PER_INPUT * inputs


def quantised_inputs_bytes_per_token_layer(arch: ModelArchitecture | None) -> float:
    """16-bit bytes per token and block that bitsandbytes before 0.43.2 kept for the backward
    pass of a QLoRA model: the inputs of its quantised layers (module docstring). 0 without a
    transformer shape."""
    if arch is None or arch.layers <= 0 or arch.ffn_size <= 0:
        return 0.0
    hidden, q_dim, _ = dims(arch)
    visited = float(arch.experts_per_token if arch.experts > 1 else 1)
    return QUANTISED_INPUT_BYTES * (hidden + q_dim + visited * (hidden + float(arch.ffn_size)))


def activation_bytes_per_token_layer(workload: WorkloadProfile, facts: WorkloadFacts) -> float:
    """16-bit bytes one token keeps per transformer block (flash attention; module docstring)."""
    arch = workload.architecture
    if arch is None or arch.layers <= 0 or arch.ffn_size <= 0:
        return ACTIVATION_BYTES_PER_TOKEN_HIDDEN * facts.hidden
    h, q_dim, kv_dim = dims(arch)
    gated = is_gated(arch)
    ffn = float(arch.ffn_size) * float(arch.experts_per_token if arch.experts > 1 else 1)
    mlp = (GATED_MLP_BYTES_PER_FFN if gated else PLAIN_MLP_BYTES_PER_FFN) * ffn
    dropout = 0.0 if gated else DROPOUT_MASK_BYTES_PER_HIDDEN * h
    return NORM_AND_INPUT_BYTES_PER_HIDDEN * h + 4.0 * q_dim + 4.0 * kv_dim + mlp + dropout
