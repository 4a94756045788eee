"""Run time of a data-processing job on a CPU cluster: vCPUs, memory per node, nodes, data size.

A data-processing workload (``gpu_required = false`` and no ``model_params_m``: Spark, Hadoop,
Dask and the like) is sized on the data it reads, not on FLOPs. For ``n`` nodes of ``v`` vCPUs
and ``m`` GB of RAM each, over ``D`` GB of input read ``e`` times (``num_epochs``)::

    seconds = D e (SERIAL + PARALLEL / (n v) + COORDINATION log2 n) + spill

* ``SERIAL`` (s/GB): work no vCPU count shortens (driver, scheduling, the serial tail);
* ``PARALLEL`` (vCPU-s/GB): work spread over every vCPU of the cluster;
* ``COORDINATION`` (s/GB per doubling of nodes): the shuffle/IO term, exchange and stragglers
  that grow with the node count; it is why 48 small nodes lose to 12 larger ones with the same
  vCPUs in the measurements below;
* ``spill``: the working set (``WORKING_SET_FRACTION`` of the input held in memory at once) that
  does not fit the cluster's execution memory (``SPARK_MEMORY_FRACTION`` of the RAM of every
  node) is written to and read back from local disk once, at ``SPILL_DISK_MB_PER_S`` per node.

The parallel efficiency reported is the speed-up over one vCPU divided by the vCPUs used.

Calibration: the three coefficients are a least-squares fit (log-free, on seconds per GB) to the
five multi-node runs of the Spark ``join`` workload (187.6 GB input) of the Scout data set
(github.com/oxhead/scout, dataset/osr_multiple_nodes, MIT licence, measured 2018-01):
4 x c4.2xlarge 483 s, 10 x c4.2xlarge 305 s, 48 x c4.large 418 s, 4 x r4.2xlarge 546 s,
12 x m4.2xlarge 378 s. The fit reproduces them within 15% (512, 349, 420, 512, 336 s); the
c4-vs-r4 gap (clock speed) is beyond a vCPU model and left to learning from measured runs.

Decisions:

* Node memory unknown (NaN): no spill is assumed, as the memory filter does not hold unknown
  memory against a row.
* vCPUs unknown: the default count of ``estimate.assumptions``, flagged per row by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray
from artenic_opt.schemas import WorkloadProfile

#: Seconds per GB that no parallelism shortens. Fit to the Scout join runs (module docstring).
SERIAL_S_PER_GB = 0.345
#: vCPU-seconds per GB spread over the cluster's vCPUs. Same fit.
PARALLEL_VCPU_S_PER_GB = 62.0
#: Seconds per GB per doubling of the node count (shuffle, coordination). Same fit.
COORDINATION_S_PER_GB = 0.224
#: Share of the input a job holds in memory at once. The smallest calibration cluster (4 x
#: c4.2xlarge: 0.6 x 60 GB = 36 GB of execution memory for 187.6 GB of input, 19%) ran in line with
#: the larger ones, so the share is below 0.19 there; 0.15 keeps every calibration run unspilled.
WORKING_SET_FRACTION = 0.15
#: Share of a node's RAM that holds execution and cached data: Spark's ``spark.memory.fraction``
#: default (0.6, Spark configuration docs, 2.x and later; the rest is user memory and overhead).
SPARK_MEMORY_FRACTION = 0.6
#: Local-disk throughput per node for spilled data: the gp3 EBS volume baseline, 125 MiB/s
#: (AWS EMR ``VolumeSpecification`` docs: gp3 throughput from 125 to 1000 MiB/s) = 131 MB/s.
SPILL_DISK_MB_PER_S = 125.0 * 1.048576
#: Inputs the cluster model reads.
CLUSTER_INPUTS: tuple[str, ...] = (
    "dataset_size_gb",
    "num_epochs",
    "nodes",
    "offering.vcpus",
    "offering.memory_gb",
)


@dataclass(frozen=True, slots=True, eq=False)
class ClusterTime:
    """Per-row estimate of a data-processing job on ``nodes`` x an offering."""

    hours: FloatArray
    #: GB of input processed per hour, whole cluster.
    gb_per_hour: FloatArray
    #: Speed-up over one vCPU divided by the vCPUs used, in (0, 1].
    parallel_efficiency: FloatArray
    #: GB written to and read back from disk because the working set exceeds cluster memory.
    spill_gb: FloatArray


def working_set_gb(workload: WorkloadProfile) -> float:
    """Data a data-processing job holds in memory at once (GB)."""
    return float(workload.dataset_size_gb) * WORKING_SET_FRACTION


def estimate_cluster(
    workload: WorkloadProfile,
    *,
    nodes: npt.ArrayLike,
    vcpus: npt.ArrayLike,
    memory_gb: npt.ArrayLike,
) -> ClusterTime:
    """Hours of ``workload`` on every row: ``nodes`` x (``vcpus``, ``memory_gb``) per node.

    ``vcpus`` must be known (> 0) on every row; ``memory_gb`` may be NaN (unknown: no spill).
    """
    node_count = np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)
    per_node = np.asarray(vcpus, dtype=np.float64)
    ram = np.asarray(memory_gb, dtype=np.float64)
    total_vcpus = node_count * per_node
    data = float(workload.dataset_size_gb) * float(workload.num_epochs)
    per_gb = (
        SERIAL_S_PER_GB
        + PARALLEL_VCPU_S_PER_GB / total_vcpus
        + COORDINATION_S_PER_GB * np.log2(node_count)
    )
    execution_memory = np.where(ram == ram, ram * SPARK_MEMORY_FRACTION * node_count, np.inf)
    spill = np.maximum(working_set_gb(workload) - execution_memory, 0.0)
    # Written once and read back once, every node's disk in parallel.
    spill_seconds = 2.0 * spill * 1e3 / (SPILL_DISK_MB_PER_S * node_count)
    seconds = data * per_gb + spill_seconds
    one_vcpu = SERIAL_S_PER_GB + PARALLEL_VCPU_S_PER_GB
    efficiency = np.minimum(one_vcpu / (per_gb * total_vcpus), 1.0)
    hours = seconds / 3600.0
    return ClusterTime(
        hours=hours,
        gb_per_hour=data / hours,
        parallel_efficiency=efficiency,
        spill_gb=spill,
    )


__all__ = [
    "CLUSTER_INPUTS",
    "COORDINATION_S_PER_GB",
    "PARALLEL_VCPU_S_PER_GB",
    "SERIAL_S_PER_GB",
    "SPARK_MEMORY_FRACTION",
    "SPILL_DISK_MB_PER_S",
    "WORKING_SET_FRACTION",
    "ClusterTime",
    "estimate_cluster",
    "working_set_gb",
]
