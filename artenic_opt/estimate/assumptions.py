"""Every constant the estimators assume, with where it comes from.

The estimators are first-order models: they are meant to put offerings in the right order and
the right ballpark, and the feedback loop corrects them with measured outcomes. Each constant
below says what it stands for and the public figure it was taken or derived from, so that a
reader can check it and change it in one place.

Memory
------
* Bytes per parameter of the model states follow the ZeRO paper (Rajbhandari et al., 2020,
  "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models", sec. 3.1): mixed
  precision Adam keeps 16-bit weights (2 bytes) and gradients (2) plus fp32 master weights,
  momentum and variance (4 + 4 + 4 = "K = 12"), 16 bytes per parameter in all. EleutherAI's
  "Transformer Math 101" (Anthony, Biderman, Schoelkopf, 2023) gives the same optimizer figures:
  12 bytes per parameter for AdamW including the fp32 copy, 6 for 8-bit AdamW, 8 for SGD with
  momentum. We therefore keep fp32 master weights for every 16-bit precision (fp16 and bf16):
  pure-bf16 training without master weights exists but is not the norm.
* Activations: Korthikanti et al., 2022, "Reducing Activation Recomputation in Large Transformer
  Models", eq. 1: ``s*b*h*(34 + 5*a*s/h)`` bytes per layer with 16-bit activations. The
  ``5*a*s/h`` term is the attention score matrix, which memory-efficient attention
  (FlashAttention, PyTorch SDPA, now the default in the common stacks) never stores, so we keep
  ``34*s*b*h``. With full activation recomputation only each layer's input is kept
  (``2*s*b*h`` bytes per layer) plus one layer being recomputed. fp32 activations take twice as
  much. The logits of the loss add ``s*b*vocab*4`` bytes (fp32); vocabulary 32,000 as Llama 2.
* Model shape from the parameter count: a transformer block has about ``12*h^2`` parameters
  (Kaplan et al., 2020), and published models keep ``h/L`` near 128 (Llama 2 7B: h=4096, L=32;
  13B: 5120/40; GPT-3 175B: 12288/96). So ``L = (P / (12 * 128^2))^(1/3)`` and ``h = 128 L``.
* LoRA adds ``r*(d_in + d_out)`` parameters per adapted matrix. Adapting every linear layer of a
  GPT-style block (four ``h x h`` attention projections and two ``h x 4h`` MLP matrices, as the
  QLoRA paper recommends) gives ``18*r*h`` per layer.
* QLoRA stores the frozen base in 4-bit NormalFloat with double-quantised constants:
  4 + 0.127 bits per parameter (Dettmers et al., 2023, "QLoRA", sec. 3, Double Quantization).
  8-bit bases (LLM.int8) take 1 byte plus a small constant overhead, which we round into 1 byte.
* Framework overhead: the CUDA context and kernels take between 300 MiB and 2 GiB on first use
  (PyTorch); we take 1 GB per GPU. Allocator fragmentation is covered by the headroom rule:
  only 90% of a GPU's memory counts as usable.
* CPU-bound frameworks: host RAM = dataset x factor + 2 GB for the OS and interpreter. The
  factors are the resident memory that LightGBM's own benchmark measured on Higgs (LightGBM
  docs, Experiments, "Memory Consumption": 0.868 GB for LightGBM and 3.784 GB for xgboost_hist on
  the 10.5 M x 28 Higgs table, 1.18 GB as float32), rounded up: LightGBM 1.0, XGBoost 3.5.
  CatBoost is assumed to behave like XGBoost; scikit-learn copies arrays freely and gets 4.

Time
----
* Training FLOPs = 6 x parameters x tokens (forward 2, backward 4; Kaplan et al., 2020;
  "Transformer Math 101"). LoRA and QLoRA skip the weight gradients of the frozen base, which are
  half of the backward pass: 4 x P x tokens, i.e. 2/3 of full training. This is the FLOP count;
  measured gains are smaller (the LoRA paper, sec. 4.2, reports a 25% speed-up on GPT-3 175B, and
  QLoRA adds dequantisation work), so adapter runs are estimated on the fast side; measured
  outcomes correct it. Full activation recomputation adds one forward pass: +2 x P x tokens.
* Tokens, when not given: dataset bytes / 4, the usual rule of thumb of one token per four
  characters of English text for BPE tokenizers (OpenAI tokenizer guidance).
* Sample-based models (vision and other non-token deep learning, see ``WorkloadKind``): samples =
  dataset bytes / 110 kB, the ImageNet-1k average (1.28 M training images in about 138 GB), and
  each sample costs like 197 token positions (ViT-B/16 at 224 px: 14 x 14 patches + class token),
  so FLOPs = 6 x P x samples x 197.
* Model FLOPs utilisation (MFU) 0.40 of the dense peak: Llama 2's published 1,720,320 A100-80GB
  GPU-hours for 6 x 70e9 x 2e12 FLOPs imply 42% of the 312 TFLOPS bf16 peak; PaLM reports 46%.
* Scaling losses: 0.97 per doubling of GPUs inside a node (NVLink-class links), 0.95 per doubling
  of nodes (cloud networking is usually slower than the InfiniBand of the published runs).
* Peak throughput per precision: the bf16 tensor figure for bf16, int8 and int4 (quantised
  training computes in bf16), fp16 for fp16, fp32 for fp32. A GPU without bf16 (V100, T4) runs
  fp16 mixed precision instead, and we say so. When a GPU has no dense tensor figure at all (the
  reference table leaves RTX 4090 and RTX A6000 empty) we take 2 x its fp32 figure: the lowest
  tensor/fp32 ratio among the GPUs we list (RTX 4090 fp16 with fp32 accumulate is about twice its
  fp32 rate; A100 is 16x), so the fallback errs on the slow side.
* Deep-learning jobs on CPU instances: 32 GFLOP/s peak per vCPU (AVX2: two 8-wide FMA units at
  about 2 GHz per core, two vCPUs per core) at the same utilisation.
* CPU-bound frameworks: one epoch is one training run like LightGBM's benchmark (500 boosting
  rounds). LightGBM trained the 1.18 GB Higgs table in 238.5 s on 16 threads and xgboost_hist in
  551.9 s (LightGBM docs, Experiments, "Speed"). With an Amdahl serial fraction of 2% (16 threads
  = 12.3x), that is 1.44 GB per thread-hour for LightGBM and 0.62 for XGBoost. CatBoost is
  assumed like XGBoost; scikit-learn at half of it, with a 25% serial fraction because many of
  its estimators are single-threaded.

Spot
----
* Preemption priors per instance-hour. AWS's Spot Instance Advisor reports the share of
  instances reclaimed over the trailing month in buckets up to ">20%"; GPU families usually sit
  in the top bucket. GCP's preemptible VMs (the predecessor of Spot VMs) stopped after at most
  24 hours. These are priors to be replaced by measured rates (``preemption_rates`` arguments):
  AWS 0.01/h, GCP and Azure 0.02/h, any other provider 0.03/h.
* Each preemption costs a restart of 0.25 h (a replacement instance, image pull and checkpoint
  reload) plus the work since the last checkpoint: the expected completion time of a run of
  ``T`` hours checkpointed every ``c`` hours under preemptions at rate ``mu`` is
  ``(T/c) * (1/mu + restart) * (exp(mu*c) - 1)`` (the classic result for restarts under
  exponential failures, applied per checkpoint segment). Without checkpointing ``c = T``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from artenic_opt.types import ModelFramework, OptimizerKind

GB: Final = 1e9

# --- memory ---------------------------------------------------------------------------------
MASTER_WEIGHT_BYTES: Final = 4.0
OPTIMIZER_STATE_BYTES: Final = MappingProxyType(
    {
        OptimizerKind.ADAMW: 8.0,
        OptimizerKind.ADAM: 8.0,
        OptimizerKind.ADAMW_8BIT: 2.0,
        OptimizerKind.PAGED_ADAMW_8BIT: 2.0,
        OptimizerKind.ADAFACTOR: 4.0,
        OptimizerKind.SGD_MOMENTUM: 4.0,
        OptimizerKind.SGD: 0.0,
    }
)
ACTIVATION_BYTES_PER_TOKEN_HIDDEN_LAYER: Final = 34.0
CHECKPOINTED_BYTES_PER_TOKEN_HIDDEN_LAYER: Final = 2.0
LOGITS_VOCAB: Final = 32_000
LOGITS_BYTES: Final = 4.0
HIDDEN_PER_LAYER: Final = 128.0
PARAMS_PER_LAYER_PER_HIDDEN_SQUARED: Final = 12.0
LORA_PARAMS_PER_RANK_HIDDEN_LAYER: Final = 18.0
NF4_DOUBLE_QUANT_BITS_PER_PARAM: Final = 4.127
FRAMEWORK_OVERHEAD_GB: Final = 1.0
USABLE_MEMORY_FRACTION: Final = 0.9
HOST_BASE_MEMORY_GB: Final = 2.0
HOST_MEMORY_FACTOR: Final = MappingProxyType(
    {
        ModelFramework.LIGHTGBM: 1.0,
        ModelFramework.XGBOOST: 3.5,
        ModelFramework.CATBOOST: 3.5,
        ModelFramework.SKLEARN: 4.0,
    }
)

# --- time -----------------------------------------------------------------------------------
FLOPS_PER_PARAM_TOKEN_FULL: Final = 6.0
FLOPS_PER_PARAM_TOKEN_ADAPTER: Final = 4.0
FLOPS_PER_PARAM_TOKEN_RECOMPUTE: Final = 2.0
BYTES_PER_TOKEN: Final = 4.0
BYTES_PER_SAMPLE: Final = 110e3
POSITIONS_PER_SAMPLE: Final = 197
DEFAULT_MFU: Final = 0.40
#: Largest model (millions of parameters) taken as a vision/sample model when nothing else says
#: what it is: torchvision's largest classifier, ViT-H/14, has 632 M parameters.
MAX_SAMPLE_MODEL_PARAMS_M: Final = 1000.0
#: Forward multiply-accumulates of ResNet-50 per 224 px image (torchvision model docs, 4.09
#: "GFLOPS", which torchvision counts as MACs) and its parameters (25.557 M, same page).
RESNET50_FORWARD_MACS: Final = 4.09e9
RESNET50_PARAMS: Final = 25.557e6
#: Sequence length of the BERT SQuAD fine-tuning benchmarks (``max_seq_length`` 384).
SQUAD_SEQUENCE_LENGTH: Final = 384
# --- throughput model (estimate/throughput_model.py) ----------------------------------------
MAX_EFFICIENCY: Final = 0.95
#: Dense TF32 tensor rate per dense bf16 rate on Ampere and later (A100 datasheet: 156 vs 312
#: TFLOPS; H100 SXM: 494.7 vs 989).
TF32_PER_BF16: Final = 0.5
#: Memory bandwidth when a GPU's is not published: A100 40GB's ratio, 1555 GB/s for 312 TFLOPS.
FALLBACK_GBPS_PER_TFLOPS: Final = 5.0
#: In-node GPU-to-GPU bandwidth when unknown: PCIe 4 x16, 31 GB/s one way (stas00/ml-engineering
#: network/README.md intra-node table, the figure gpu_specs.csv cites).
FALLBACK_INTRA_NODE_GBPS: Final = 31.0
#: Inter-node bandwidth per machine when unknown: the slowest fabric in node_networks.csv (AWS
#: p4d, EFA v1 4 x 100 Gbps = 50 GB/s).
FALLBACK_INTER_NODE_GBPS: Final = 50.0
#: Weight reads per micro-step (forward, backward for activations, backward for weights).
WEIGHT_READS_PER_MICRO_STEP: Final = 3.0
#: Mixed-precision AdamW step traffic per parameter: reads fp32 master, m, v (12) and the 16-bit
#: gradient (2), writes master, m, v (12) and the 16-bit weight (2).
OPTIMIZER_STEP_BYTES: Final = 28.0
#: ZeRO-3 communicates 1.5x the data-parallel volume (Rajbhandari et al. 2020, sec. 7.2.2).
ZERO3_COMM_FACTOR: Final = 1.5
#: Megatron-LM tensor parallelism: two all-reduces forward and two backward per layer
#: (Shoeybi et al. 2019, sec. 3 / Fig. 4).
TP_ALL_REDUCES_PER_LAYER: Final = 4.0
ACTIVATION_COMM_BYTES: Final = 2.0
#: CPU offload: 16-bit gradients down and 16-bit parameters up per step over PCIe 4 x16
#: (31 GB/s, the same stas00/ml-engineering figure as above).
OFFLOAD_BYTES_PER_PARAM: Final = 4.0
PCIE_GBPS: Final = 31.0
#: CPU optimiser step under offload: an ASSUMPTION, not a sourced figure (no measurement in the
#: table): 2e9 parameters per second. It only matters for plans the search tries last.
CPU_ADAM_PARAMS_PER_S: Final = 2e9
INTRA_NODE_EFFICIENCY_PER_DOUBLING: Final = 0.97
INTER_NODE_EFFICIENCY_PER_DOUBLING: Final = 0.95
FP32_TO_TENSOR_FALLBACK_FACTOR: Final = 2.0
CPU_PEAK_GFLOPS_PER_VCPU: Final = 32.0
DEFAULT_VCPUS_PER_GPU: Final = 8
DEFAULT_VCPUS_CPU_INSTANCE: Final = 4
CPU_GB_PER_THREAD_HOUR: Final = MappingProxyType(
    {
        ModelFramework.LIGHTGBM: 1.44,
        ModelFramework.XGBOOST: 0.62,
        ModelFramework.CATBOOST: 0.62,
        ModelFramework.SKLEARN: 0.31,
    }
)
CPU_SERIAL_FRACTION: Final = MappingProxyType(
    {
        ModelFramework.LIGHTGBM: 0.02,
        ModelFramework.XGBOOST: 0.02,
        ModelFramework.CATBOOST: 0.02,
        ModelFramework.SKLEARN: 0.25,
    }
)

# --- spot -----------------------------------------------------------------------------------
PREEMPTION_RATE_PRIORS_PER_HOUR: Final = MappingProxyType({"aws": 0.01, "gcp": 0.02, "azure": 0.02})
DEFAULT_PREEMPTION_RATE_PER_HOUR: Final = 0.03
RESTART_OVERHEAD_HOURS: Final = 0.25
#: Above this many expected preemptions per checkpoint segment the run practically never ends.
MAX_HAZARD_PER_SEGMENT: Final = 30.0
