"""Model architectures: the embedded, sourced table, Hugging Face config.json, parameter counts.

Data: ``estimate/data/architectures.csv``, one row per named model (``--model`` key): its family
(decoder LLM, encoder, encoder-decoder, vision transformer, CNN, diffusion UNet), the shape the
official Hugging Face ``config.json`` gives (layers, hidden, heads, KV heads, head size, FFN size,
vocabulary, experts and experts per token) with ``config_source``, and the parameter count the
model's publisher states, with ``published_source``. ``published_precision`` says whether that
count is exact (``7.61B``) or only the size in the model's name (``7B``).

Decisions:

* Parameter counts of transformers are computed from the shape, never copied: embeddings
  (plus learned positions), attention with grouped-query K/V (``kv_heads``) and the explicit
  head size where the config gives one (Gemma 2 9B: 16 x 256 > hidden), gated (SwiGLU/GeGLU:
  three matrices) or plain (two) MLPs, biases where the family has them (``bias``: ``none``,
  ``qkv`` for Qwen2, ``all`` for GPT-2/BERT/ViT), norms (RMS: one vector, LayerNorm: two,
  Gemma 2's sandwich: four per layer), the MoE router and every expert (``total``) vs the
  ``experts_per_token`` a token uses (``active``), and an untied LM head. Tests hold the
  computed count to the published one within 2% for exact counts and 10% for name-only sizes.
  The CNN and the diffusion UNet use the published count directly (stated in the row).
* ``flops_per_token`` counts matmul FLOPs (2 per multiply-add) of the active parameters,
  LM head included, embedding lookups excluded, plus attention scores and the weighted sum:
  ``4 x layers x seq x heads x head_dim`` per token forward, without halving for a causal mask
  (the convention of the Megatron-LM and PaLM MFU formulas that the measurement sources use).
  Training is 3x forward (forward + two backward matmuls); activation recomputation is not
  added here (it is hardware work, not model work: the throughput model owns it).
* ``read_hf_config`` maps each supported ``model_type``'s field names onto the table's columns;
  anything unreadable is an ``InvalidInputError`` naming the file and the field (exit 2).
"""

from __future__ import annotations

import csv
import difflib
import functools
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from artenic_opt._internal.files import read_package_data
from artenic_opt.errors import ArtenicOptError, InvalidInputError

if TYPE_CHECKING:
    from artenic_opt.schemas import ModelArchitecture

ARCHITECTURES_FILE = "architectures.csv"

Family = Literal["decoder", "encoder", "encoder_decoder", "vit", "cnn", "diffusion_unet"]
WorkloadKindName = Literal["llm", "encoder", "vision", "diffusion"]
Mlp = Literal["gated", "plain"]
Norm = Literal["rms", "rms_sandwich", "layer"]
Bias = Literal["none", "qkv", "all"]

FAMILIES: tuple[str, ...] = get_args(Family)
_KIND_OF_FAMILY: dict[str, WorkloadKindName] = {
    "decoder": "llm",
    "encoder": "encoder",
    "encoder_decoder": "llm",
    "vit": "vision",
    "cnn": "vision",
    "diffusion_unet": "diffusion",
}
TRANSFORMER_FAMILIES = frozenset({"decoder", "encoder", "encoder_decoder", "vit"})


class ArchitectureDataError(ArtenicOptError):
    """The shipped architecture table is malformed (a packaging bug, not user input)."""

    code = "invalid_architecture_data"


@dataclass(frozen=True, slots=True)
class Architecture:
    """A model's shape. Transformer fields are ``0`` for the CNN/UNet rows (count published)."""

    key: str
    name: str
    family: Family
    model_type: str
    layers: int = 0
    hidden: int = 0
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    ffn_size: int = 0
    vocab: int = 0
    max_positions: int = 0
    decoder_layers: int = 0
    mlp: Mlp = "gated"
    norm: Norm = "rms"
    bias: Bias = "none"
    tied_embeddings: bool = False
    experts: int = 1
    experts_per_token: int = 1
    image_size: int = 0
    patch_size: int = 0
    published_params_b: float | None = None
    published_active_params_b: float | None = None
    published_exact: bool = False
    published_source: str = ""
    config_source: str = ""

    @property
    def kind(self) -> WorkloadKindName:
        """The workload kind the advisor should cost this model as."""
        return _KIND_OF_FAMILY[self.family]

    @property
    def is_transformer(self) -> bool:
        return self.family in TRANSFORMER_FAMILIES

    @property
    def is_moe(self) -> bool:
        return self.experts > 1

    @property
    def q_dim(self) -> int:
        """Width of the query projection (heads x head size)."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of each of the key and value projections (KV heads x head size)."""
        return self.kv_heads * self.head_dim

    @property
    def params(self) -> float:
        """Total parameters (every expert), computed for transformers, published otherwise."""
        return _count(self, active=False)

    @property
    def active_params(self) -> float:
        """Parameters one token uses (``experts_per_token`` experts); equals ``params`` if dense."""
        return _count(self, active=True)

    @property
    def params_m(self) -> float:
        """Total parameters in millions (the unit of ``WorkloadProfile.model_params_m``)."""
        return self.params / 1e6


# --------------------------------------------------------------------------------------------
# Parameter counting
# --------------------------------------------------------------------------------------------


def _norm_params(arch: Architecture) -> int:
    return 2 * arch.hidden if arch.norm == "layer" else arch.hidden


def _attention_params(arch: Architecture, *, cross: bool = False) -> int:
    d = arch.hidden
    weights = d * arch.q_dim + 2 * d * arch.kv_dim + arch.q_dim * d
    if arch.bias == "all":
        return weights + arch.q_dim + 2 * arch.kv_dim + d
    if arch.bias == "qkv" and not cross:
        return weights + arch.q_dim + 2 * arch.kv_dim
    return weights


def _mlp_params(arch: Architecture) -> int:
    d, f = arch.hidden, arch.ffn_size
    if arch.mlp == "gated":
        return 3 * d * f
    return 2 * d * f + ((f + d) if arch.bias == "all" else 0)


def _count(arch: Architecture, *, active: bool) -> float:
    if not arch.is_transformer:
        published = arch.published_params_b
        return 0.0 if published is None else published * 1e9
    d = arch.hidden
    norms_per_layer = {"rms": 2, "rms_sandwich": 4, "layer": 2}[arch.norm]
    experts = arch.experts_per_token if active else arch.experts
    router = d * arch.experts if arch.is_moe else 0
    layer = (
        _attention_params(arch)
        + experts * _mlp_params(arch)
        + router
        + norms_per_layer * _norm_params(arch)
    )
    total = arch.layers * layer + _norm_params(arch)  # final norm
    if arch.family == "encoder_decoder":
        decoder_layer = (
            _attention_params(arch)
            + _attention_params(arch, cross=True)
            + _mlp_params(arch)
            + 3 * _norm_params(arch)
        )
        # T5's relative position bias: 32 buckets per head, in the first layer of each stack.
        total += arch.decoder_layers * decoder_layer + _norm_params(arch) + 2 * 32 * arch.heads
    if arch.family == "vit":
        patches = (arch.image_size // arch.patch_size) ** 2
        patch_embed = 3 * arch.patch_size**2 * d + d
        total += patch_embed + d + (patches + 1) * d  # + class token + positions
        return float(total)
    total += arch.vocab * d * (1 if arch.tied_embeddings else 2)
    total += arch.max_positions * d
    if arch.family == "encoder":
        total += 2 * d + d  # token-type embeddings (2 types) + the embedding LayerNorm's bias
        total += d * d + d  # pooler
    return float(total)


# --------------------------------------------------------------------------------------------
# FLOPs
# --------------------------------------------------------------------------------------------


def matmul_params(arch: Architecture) -> float:
    """Active parameters that take part in matmuls per token (embedding lookups excluded)."""
    if not arch.is_transformer:
        raise InvalidInputError(
            f"{arch.name} is a {arch.family}: use its per-sample FLOPs, not per-token FLOPs"
        )
    lookups = arch.max_positions * arch.hidden
    if arch.family == "vit":
        patches = (arch.image_size // arch.patch_size) ** 2
        lookups = (patches + 1) * arch.hidden + arch.hidden
    elif not arch.tied_embeddings:
        lookups += arch.vocab * arch.hidden  # the input table; the untied head is a matmul
    # A tied table is both a lookup and the head's matmul: count it once, as the head.
    if arch.family == "encoder":
        lookups += arch.vocab * arch.hidden  # an encoder has no LM head in fine-tuning
    return arch.active_params - lookups


def attention_flops_per_token(arch: Architecture, seq_len: int) -> float:
    """Forward FLOPs of attention scores and weighted sum for one token at ``seq_len``."""
    layers = arch.layers + arch.decoder_layers * 2
    return 4.0 * layers * seq_len * arch.q_dim


def flops_per_token(arch: Architecture, seq_len: int, *, training: bool = True) -> float:
    """Model FLOPs per token (forward, or forward + backward when ``training``)."""
    if seq_len < 1:
        raise InvalidInputError(f"sequence length must be at least 1, got {seq_len}")
    forward = 2.0 * matmul_params(arch) + attention_flops_per_token(arch, seq_len)
    return 3.0 * forward if training else forward


# --------------------------------------------------------------------------------------------
# The embedded table
# --------------------------------------------------------------------------------------------

_INT_FIELDS = (
    "layers",
    "hidden",
    "heads",
    "kv_heads",
    "head_dim",
    "ffn_size",
    "vocab",
    "max_positions",
    "decoder_layers",
    "experts",
    "experts_per_token",
    "image_size",
    "patch_size",
)


def _finish(arch: Architecture) -> Architecture:
    """Fill derived defaults (head size, KV heads, experts) and check the shape is coherent."""
    if not arch.is_transformer:
        return arch
    kv_heads = arch.kv_heads or arch.heads
    head_dim = arch.head_dim or (arch.hidden // arch.heads if arch.heads else 0)
    done = replace(
        arch,
        kv_heads=kv_heads,
        head_dim=head_dim,
        experts=arch.experts or 1,
        experts_per_token=arch.experts_per_token or 1,
    )
    for name in ("layers", "hidden", "heads", "ffn_size"):
        if getattr(done, name) < 1:
            raise InvalidInputError(f"{arch.name}: {name} must be a positive whole number")
    if done.heads % done.kv_heads:
        raise InvalidInputError(f"{arch.name}: heads ({done.heads}) not a multiple of kv_heads")
    if done.experts_per_token > done.experts:
        raise InvalidInputError(f"{arch.name}: experts_per_token exceeds experts")
    if done.family != "vit" and done.vocab < 1:
        raise InvalidInputError(f"{arch.name}: vocab must be a positive whole number")
    return done


def _row_to_architecture(row: dict[str, str], line: int) -> Architecture:
    def fail(message: str) -> ArchitectureDataError:
        return ArchitectureDataError(f"{ARCHITECTURES_FILE} line {line}: {message}")

    values: dict[str, Any] = {}
    for name in _INT_FIELDS:
        text = (row.get(name) or "").strip()
        try:
            values[name] = int(text) if text else 0
        except ValueError:
            raise fail(f"{name} is not a whole number: {text!r}") from None
    family = row["family"].strip()
    if family not in FAMILIES:
        raise fail(f"family {family!r} is not one of {', '.join(FAMILIES)}")
    published = row.get("published_params_b", "").strip()
    active = row.get("published_active_params_b", "").strip()
    if not published or not row.get("published_source", "").strip():
        raise fail("published_params_b and published_source are required")
    if not row.get("config_source", "").strip():
        raise fail("config_source is required")
    try:
        arch = Architecture(
            key=row["key"].strip(),
            name=row["name"].strip(),
            family=family,  # type: ignore[arg-type]
            model_type=row["model_type"].strip(),
            mlp=(row.get("mlp") or "gated").strip(),  # type: ignore[arg-type]
            norm=(row.get("norm") or "rms").strip(),  # type: ignore[arg-type]
            bias=(row.get("bias") or "none").strip(),  # type: ignore[arg-type]
            tied_embeddings=row.get("tied_embeddings", "").strip() == "true",
            published_params_b=float(published),
            published_active_params_b=float(active) if active else None,
            published_exact=row.get("published_precision", "").strip() == "exact",
            published_source=row["published_source"].strip(),
            config_source=row["config_source"].strip(),
            **values,
        )
        return _finish(arch)
    except (ValueError, InvalidInputError) as exc:
        raise fail(str(exc)) from None


@functools.cache
def load_architectures() -> dict[str, Architecture]:
    """Every named architecture by key (parsed once per process)."""
    text = read_package_data("artenic_opt.estimate", ARCHITECTURES_FILE)
    table: dict[str, Architecture] = {}
    for index, row in enumerate(csv.DictReader(text.splitlines())):
        arch = _row_to_architecture(row, index + 2)
        if arch.key in table:
            raise ArchitectureDataError(f"{ARCHITECTURES_FILE}: duplicate key {arch.key!r}")
        table[arch.key] = arch
    return table


def _normal(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch == ".")


def get_architecture(name: str) -> Architecture:
    """The named architecture (key or display name, case/punctuation-insensitive)."""
    table = load_architectures()
    wanted = _normal(name)
    for arch in table.values():
        if wanted in (_normal(arch.key), _normal(arch.name)):
            return arch
    close = difflib.get_close_matches(name.lower(), list(table), n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise InvalidInputError(
        f"unknown model {name!r}{hint} (`--hf-config FILE` reads any Hugging Face config.json)"
    )


# --------------------------------------------------------------------------------------------
# Hugging Face config.json
# --------------------------------------------------------------------------------------------

# model_type -> (family, {our field: HF field or tuple of alternatives}, fixed values)
_DECODER = {
    "layers": "num_hidden_layers",
    "hidden": "hidden_size",
    "heads": "num_attention_heads",
    "ffn_size": "intermediate_size",
    "vocab": "vocab_size",
}
_HF_TYPES: dict[str, tuple[Family, dict[str, str], dict[str, Any]]] = {
    "llama": ("decoder", _DECODER, {"mlp": "gated", "norm": "rms", "bias": "none"}),
    "mistral": ("decoder", _DECODER, {"mlp": "gated", "norm": "rms", "bias": "none"}),
    "mixtral": ("decoder", _DECODER, {"mlp": "gated", "norm": "rms", "bias": "none"}),
    "qwen2": ("decoder", _DECODER, {"mlp": "gated", "norm": "rms", "bias": "qkv"}),
    "gemma2": ("decoder", _DECODER, {"mlp": "gated", "norm": "rms_sandwich", "bias": "none"}),
    "phi3": ("decoder", _DECODER, {"mlp": "gated", "norm": "rms", "bias": "none"}),
    "gpt2": (
        "decoder",
        {"layers": "n_layer", "hidden": "n_embd", "heads": "n_head", "vocab": "vocab_size"},
        {"mlp": "plain", "norm": "layer", "bias": "all", "tied_embeddings": True},
    ),
    "bert": (
        "encoder",
        {**_DECODER, "max_positions": "max_position_embeddings"},
        {"mlp": "plain", "norm": "layer", "bias": "all", "tied_embeddings": True},
    ),
    "t5": (
        "encoder_decoder",
        {
            "layers": "num_layers",
            "hidden": "d_model",
            "heads": "num_heads",
            "ffn_size": "d_ff",
            "vocab": "vocab_size",
            "head_dim": "d_kv",
        },
        {"mlp": "plain", "norm": "rms", "bias": "none"},
    ),
    "vit": (
        "vit",
        {
            "layers": "num_hidden_layers",
            "hidden": "hidden_size",
            "heads": "num_attention_heads",
            "ffn_size": "intermediate_size",
            "image_size": "image_size",
            "patch_size": "patch_size",
        },
        {"mlp": "plain", "norm": "layer", "bias": "all"},
    ),
}
# Optional fields: absent means the default (kv_heads = heads, head_dim = hidden / heads, ...).
_OPTIONAL = {
    "kv_heads": "num_key_value_heads",
    "head_dim": "head_dim",
    "experts": "num_local_experts",
    "experts_per_token": "num_experts_per_tok",
    "decoder_layers": "num_decoder_layers",
}
SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(_HF_TYPES)


def _whole(path: Path, field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"{path}: field {field!r} must be a whole number, got {value!r}")
    return value


def architecture_from_hf_config(data: object, path: Path) -> Architecture:
    """Build an ``Architecture`` from a parsed Hugging Face ``config.json`` object."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: a config.json must hold a JSON object")
    model_type = data.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise InvalidInputError(f"{path}: field 'model_type' is missing")
    if model_type not in _HF_TYPES:
        raise InvalidInputError(
            f"{path}: field 'model_type' is {model_type!r}, not a supported architecture "
            f"({', '.join(SUPPORTED_MODEL_TYPES)}); give --params instead"
        )
    family, required, fixed = _HF_TYPES[model_type]
    values: dict[str, Any] = dict(fixed)
    if model_type == "gpt2":
        values["max_positions"] = _whole(path, "n_positions", data.get("n_positions", 1024))
        inner = data.get("n_inner")
        values["ffn_size"] = (
            4 * _whole(path, "n_embd", data.get("n_embd", 0))
            if inner is None
            else _whole(path, "n_inner", inner)
        )
    for ours, theirs in required.items():
        if theirs not in data or data[theirs] is None:
            raise InvalidInputError(f"{path}: field {theirs!r} is missing")
        values[ours] = _whole(path, theirs, data[theirs])
    for ours, theirs in _OPTIONAL.items():
        if data.get(theirs) is not None and (
            ours != "decoder_layers" or family == "encoder_decoder"
        ):
            values[ours] = _whole(path, theirs, data[theirs])
    if family == "encoder_decoder" and not values.get("decoder_layers"):
        values["decoder_layers"] = values["layers"]
    if family != "vit" and "tied_embeddings" not in fixed:
        values["tied_embeddings"] = bool(data.get("tie_word_embeddings", model_type == "t5"))
    name = str(data.get("_name_or_path") or path.parent.name or path.name)
    arch = Architecture(
        key=name,
        name=name,
        family=family,
        model_type=model_type,
        config_source=str(path),
        **values,
    )
    try:
        return _finish(arch)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {exc.message.split(': ', 1)[-1]}") from None


#: A Hugging Face ``config.json`` is a few kB; 16 MiB bounds what reading one can cost.
_MAX_HF_CONFIG_BYTES = 16 * 1024 * 1024


def _no_duplicate_keys(file: Path) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InvalidInputError(f"{file}: key {key!r} is given twice")
            result[key] = value
        return result

    return hook


def read_hf_config(path: str | Path) -> Architecture:
    """Read a Hugging Face ``config.json``; errors name the file and the field (exit 2)."""
    from artenic_opt._internal.files import read_text_file

    file = Path(path)
    text = read_text_file(file, what="Hugging Face config", max_bytes=_MAX_HF_CONFIG_BYTES)
    try:
        # A UTF-8 byte order mark may be ignored (RFC 8259 section 8.1); a key given twice is
        # refused rather than the last one silently winning (hidden_size twice: another model).
        data = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_no_duplicate_keys(file))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"{file}: not JSON ({exc})") from None
    return architecture_from_hf_config(data, file)


def to_schema(arch: Architecture) -> ModelArchitecture:
    """The workload-facing record of ``arch`` (shape plus computed parameter counts).

    A config.json may hold whole numbers beyond the schema's bounds (a billion layers): that is
    bad input naming the file (exit 2), not a validation error escaping as an internal one.
    """
    from artenic_opt.schemas import ModelArchitecture, parse_model

    source = (
        arch.config_source
        if arch.key == arch.config_source
        else f"{arch.key}: {arch.config_source}"
    )
    return parse_model(
        ModelArchitecture,
        {
            "name": arch.name,
            "family": arch.family,
            "kind": arch.kind,
            "layers": arch.layers,
            "hidden": arch.hidden,
            "heads": arch.heads,
            "kv_heads": arch.kv_heads,
            "head_dim": arch.head_dim,
            "ffn_size": arch.ffn_size,
            "vocab": arch.vocab,
            "experts": arch.experts,
            "experts_per_token": arch.experts_per_token,
            "params_m": arch.params / 1e6,
            "active_params_m": arch.active_params / 1e6,
            "source": source,
        },
        context=arch.config_source,
    )
