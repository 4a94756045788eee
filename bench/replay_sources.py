"""Public measured-run data sets as replay runs (bench helper, not part of the package).

Three sources, read from (first that has them) a local folder (``ARTENIC_REPLAY_DATA``, default
``/work/shared/replay-data``: ``scout/<run>.json``, ``lynceus-tensorflow/<file>.csv`` and
``cherrypick/CP_<workload>.csv``), a git
mirror of github.com/marialcasimiro/Lynceus-ICDCS (``ARTENIC_REPLAY_MIRROR``, default
``/work/.mirror/marialcasimiro+Lynceus-ICDCS/repo``; that repository carries a copy of the Scout
runs under ``data/scout/osr_multiple_nodes_original``, 1,242 reports, and the TensorFlow files
under ``files/``), or GitHub itself; ``None`` when none works (offline), so that the bench skips
the data set instead of failing. The data is never committed (licences); to fill the folder from
a mirror: ``git --git-dir MIRROR show HEAD:data/scout/osr_multiple_nodes_original/<dir>/<run>/
report.json > scout/<run>.json`` for every report, ``git --git-dir MIRROR show
HEAD:files/t2_rnn.csv > lynceus-tensorflow/t2_rnn.csv`` and likewise for the two other files,
``git --git-dir MIRROR show HEAD:data/cherrypick/CP_tpch.csv > cherrypick/CP_tpch.csv`` and
likewise for the four other CherryPick files.

* **scout** (analytics): the Scout multi-node data set, github.com/oxhead/scout
  ``dataset/osr_multiple_nodes`` (MIT licence): 18 Hadoop/Spark workloads (9 programs x 2
  inputs) on 69 AWS configurations ({4..48} x c4/m4/r4 .large, {4..24} x .xlarge,
  {4..12} x .2xlarge), one run each, 2-hour timeout. Workload = program + input size, declared as
  a data-processing job (``gpu_required = false``, no model); the measured input size of each run
  is a run attribute.
* **lynceus-tensorflow** (ML training): TensorFlow CNN, multilayer-perceptron and RNN training
  runs on AWS t2 instances with 1-112 workers and one parameter server, files ``t2_*.csv`` of
  github.com/marialcasimiro/Lynceus-ICDCS (ICDCS 2020). Workload = model + learning rate + batch
  size + synchronism (each a different job); nodes = workers + the parameter server. No licence
  file: fetched at run time only, never shipped.
* **cherrypick** (analytics, out-of-sample: no rule of the advisor was tuned on it): the
  CherryPick runs (Alipourfard et al., NSDI 2017) as shipped in the same Lynceus-ICDCS
  repository, ``data/cherrypick/CP_{kmeans,spark,terasort,tpcds,tpch}.csv`` (291 runs): five
  analytics jobs (k-means, "spark" (the file says no more), TeraSort, TPC-DS, TPC-H) on 2-56
  AWS machines of 11 types (c4, m4, r3 .large-.2xlarge;
  i2 .xlarge, .2xlarge). Same repository, so the same licence status: fetched at run time only.
  Columns: ``exp_name`` (workload), ``num_machines``, ``time`` (seconds: the authors'
  ``CherrypickConfigCostGenerator`` divides it by 60 to get minutes), the VM (``vm_name``,
  ``cpu_count``, ``ram`` in GiB, ``vm_cost`` USD/h) and the disks (``disk_name`` ebs/local,
  ``disk_count`` of ``disk_size`` 500 GB, ``disk_speed``, ``disk_cost``). ``num`` (repetition)
  is 1 on every row and no configuration repeats, so there are no repeated runs to merge (each
  row is kept as one replay run). A configuration is what the authors' ``CherrypickConfig``
  says: VM type and size, machine count, disk type, disk speed and disk count.

  *Cost rule* (the authors' own): ``CherrypickConfigCostGenerator.java`` cost = (time / 60) x
  ``AWSDirectory.cherrypickCostPerConfigPerMinute`` = machines x VM price per hour / 60 per
  minute, i.e. cost = hours x machines x VM price. Disks add nothing: the authors' generator
  never reads ``disk_cost`` (``CherrypickConfig.java``: "I think this should not be part of the
  configuration"), and the file does not state its unit (0.12 for EBS, 0 for local disks; if it
  were USD per GB-month, 2 x 500 GB would add about 0.16 USD/h per machine, more than a
  c4.large's 0.138, so the rule matters; we follow the authors). The price table is the one of
  ``cherrypickCostPerConfigPerMinute``; every row's ``vm_cost`` must equal it (checked).

  *Disk variants*: in these files the disk follows the VM type (``DiskDirectory
  .diskTypeForVMType``: EBS x2 on c4/m4/r3, local disks on i2; i2.2xlarge has 2 local disks in
  ``CP_kmeans`` and 3 in the others), so offering + machine count already identifies a
  configuration and ``instance_type`` is the plain VM name; the disk is kept as run attributes
  (``disk_type``, ``disk_count``). A VM type that a file measured with two disk setups would
  become one offering per setup (``instance_type`` ``"<vm>+<count>x<disk>"``): the evaluation
  keys a configuration by offering id + nodes + spot, and run attributes never split it.

  *Workloads*: each file is one job, declared like Scout's (``gpu_required = false``,
  framework custom, distributed, on-demand). The files do not state input sizes, so every job
  declares the same nominal 1 GB (Scout's convention for an unstated size, fixed before this
  data set was first run, not tuned on it): zero-shot methods see five identically declared
  jobs. Prices: region and date are not stated by the data set (``region`` "unstated"; price
  date the first day of the paper's conference, NSDI '17, 2017-03-27, as an upper bound).

Prices of scout and lynceus-tensorflow (USD per instance-hour, AWS us-east-1 on-demand Linux, as
used by the Lynceus authors for these data sets): ``lynceus/aws/AWSDirectory.java``
``costPerConfigPerMinute`` (c4/m4/r4) and ``lynceus/tensorflow/TensorflowConfigCostGenerator
.java`` (t2). vCPUs and memory: the same ``AWSDirectory.java`` (c4/m4/r4) and
github.com/AjitTK/aws-emr-configuration ``index.js`` (t2). Cost of a run = measured hours x
nodes x price.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import subprocess
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.simulate.replay import ReplayOutcome, ReplayRun
from artenic_opt.types import JobStatus

DATA = Path(os.environ.get("ARTENIC_REPLAY_DATA", "/work/shared/replay-data"))
MIRROR = Path(
    os.environ.get("ARTENIC_REPLAY_MIRROR", "/work/.mirror/marialcasimiro+Lynceus-ICDCS/repo")
)
if (MIRROR / "repo").is_dir():  # the mirror's folder given instead of its git directory
    MIRROR = MIRROR / "repo"
_MIRROR_SCOUT = "data/scout/osr_multiple_nodes_original"
_RAW = "https://raw.githubusercontent.com"
_SCOUT_APPS = (
    "join_spark",
    "kmeans_spark1.5",
    "lr_spark",
    "naive-bayes_spark1.5",
    "pagerank_hadoop",
    "pagerank_spark",
    "regression_spark1.5",
    "terasort_hadoop",
    "wordcount_hadoop",
)
_SCOUT_SHAPES = {
    "large": ((4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48), 2),
    "xlarge": ((4, 6, 8, 10, 12, 16, 20, 24), 4),
    "2xlarge": ((4, 6, 8, 10, 12), 8),
}
# (price USD/h, GiB of RAM) per instance type; see the module docstring for the sources.
_AWS: dict[str, tuple[float, float]] = {
    "c4.large": (0.1, 3.75),
    "c4.xlarge": (0.199, 7.5),
    "c4.2xlarge": (0.398, 15.0),
    "m4.large": (0.1, 8.0),
    "m4.xlarge": (0.2, 16.0),
    "m4.2xlarge": (0.4, 32.0),
    "r4.large": (0.133, 15.25),
    "r4.xlarge": (0.266, 30.5),
    "r4.2xlarge": (0.532, 61.0),
}
_T2: dict[str, tuple[float, int, float]] = {
    "t2.small": (0.023, 1, 2.0),
    "t2.medium": (0.0464, 2, 4.0),
    "t2.xlarge": (0.1856, 4, 16.0),
    "t2.2xlarge": (0.3712, 8, 32.0),
}
_PRICE_SOURCE = "AWS us-east-1 on-demand as used by the Lynceus authors (ICDCS 2020)"
_PRICE_DATE = date(2018, 1, 1)
_LYNCEUS = "marialcasimiro/Lynceus-ICDCS/c5f83fc8d0a4fe57cc4724c1ebce725d605f0a0a"
# USD per machine-hour, AWSDirectory.cherrypickCostPerConfigPerMinute (the value x 60) in
# src/main/java/lynceus/aws/AWSDirectory.java of github.com/marialcasimiro/Lynceus-ICDCS at
# c5f83fc8d0a4fe57cc4724c1ebce725d605f0a0a: the prices of the CherryPick runs.
_CHERRYPICK_PRICES: dict[str, float] = {
    "c4.large": 0.138,
    "c4.xlarge": 0.276,
    "c4.2xlarge": 0.552,
    "m4.large": 0.147,
    "m4.xlarge": 0.294,
    "m4.2xlarge": 0.588,
    "r3.large": 0.195,
    "r3.xlarge": 0.39,
    "r3.2xlarge": 0.78,
    "i2.xlarge": 0.938,
    "i2.2xlarge": 1.876,
}
_CHERRYPICK_WORKLOADS = ("kmeans", "spark", "terasort", "tpcds", "tpch")
_CHERRYPICK_SOURCE = (
    "CherryPick runs (NSDI 2017) as priced by the Lynceus authors: AWSDirectory.java "
    "cherrypickCostPerConfigPerMinute, Lynceus-ICDCS c5f83fc"
)
_CHERRYPICK_PRICE_DATE = date(2017, 3, 27)  # NSDI 2017; the data set does not date its prices


def _download(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            data: bytes = response.read()
            return data
    except OSError:
        return None


def _mirror_files(prefix: str, suffix: str) -> dict[str, str] | None:
    """Every file of the mirror's HEAD under ``prefix`` ending in ``suffix``: path -> text."""
    if not MIRROR.is_dir():
        return None
    git = ["git", "--git-dir", str(MIRROR)]
    try:
        listing = subprocess.run(
            [*git, "ls-tree", "-r", "--name-only", "HEAD", prefix],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        paths = [p for p in listing if p.endswith(suffix)]
        if not paths:
            return None
        batch = subprocess.run(
            [*git, "cat-file", "--batch"],
            input="".join(f"HEAD:{p}\n" for p in paths).encode(),
            capture_output=True,
            check=True,
            timeout=300,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    texts: dict[str, str] = {}
    at = 0
    for path in paths:
        header_end = batch.index(b"\n", at)
        size = int(batch[at:header_end].split()[2])
        texts[path] = batch[header_end + 1 : header_end + 1 + size].decode()
        at = header_end + 1 + size + 1  # the blob, then a newline
    return texts


def _offering(
    instance: str,
    vcpus: int,
    memory: float,
    price: float,
    *,
    region: str = "us-east-1",
    source: str = _PRICE_SOURCE,
    price_date: date = _PRICE_DATE,
) -> Offering:
    return Offering(
        provider="AWS",
        region=region,
        instance_type=instance,
        vcpus=vcpus,
        memory_gb=memory * 1.073741824,  # GiB -> GB
        price_per_hour=price,
        source=source,
        price_date=price_date,
    )


def _scout_reports() -> dict[str, dict[str, Any]] | None:
    folder = DATA / "scout"
    reports: dict[str, dict[str, Any]] = {}
    if folder.is_dir():
        for file in sorted(folder.glob("*.json")):
            reports[file.stem] = json.loads(file.read_text())
        if reports:
            return reports
    mirrored = _mirror_files(_MIRROR_SCOUT, "/report.json")
    if mirrored:
        return {path.split("/")[-2]: json.loads(text) for path, text in mirrored.items()}
    for size, (counts, _) in _SCOUT_SHAPES.items():
        for family in ("c4", "m4", "r4"):
            for nodes in counts:
                for app in _SCOUT_APPS:
                    for data_size in ("bigdata", "huge"):
                        run = f"{nodes}_{family}.{size}_{app}_{data_size}_1"
                        raw = _download(
                            f"{_RAW}/oxhead/scout/master/dataset/osr_multiple_nodes/{run}/report.json"
                        )
                        if raw is None:
                            return None
                        reports[run] = json.loads(raw)
    return reports


def scout_runs() -> list[ReplayRun] | None:
    """The Scout runs as replay runs, or None when the data cannot be had."""
    reports = _scout_reports()
    if reports is None:
        return None
    by_workload: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for run, report in reports.items():
        nodes_text, instance, rest = run.split("_", 2)
        workload = rest.rsplit("_", 1)[0]  # app_framework_input
        by_workload.setdefault(workload, []).append((int(nodes_text), instance, report))
    runs: list[ReplayRun] = []
    for name, members in sorted(by_workload.items()):
        sizes = [float(r["input_size"]) / 1e9 for _, _, r in members if float(r["input_size"]) > 0]
        workload = WorkloadProfile(
            name=f"scout-{name}",
            framework="custom",
            gpu_required=False,
            # Only some programs report their input size (-1 otherwise): a nominal 1 GB then,
            # which scales every configuration's estimate alike.
            dataset_size_gb=round(statistics.median(sizes), 3) if sizes else 1.0,
            distributed=True,
            max_nodes=48,
            spot_allowed=False,
        )
        for nodes, instance, report in members:
            price, memory = _AWS[instance]
            vcpus = _SCOUT_SHAPES[instance.split(".")[1]][1]
            hours = float(report["elapsed_time"]) / 3600.0
            completed = (
                str(report.get("completed", "")).lower() == "true"
                or report.get("completed") is True
            )
            runs.append(
                ReplayRun(
                    workload=workload,
                    offering=_offering(instance, vcpus, memory, price),
                    nodes=nodes,
                    outcome=ReplayOutcome(
                        status=JobStatus.COMPLETED if completed else JobStatus.FAILED,
                        hours=hours,
                        cost=hours * nodes * price,
                    ),
                    attributes={"input_size_gb": max(float(report["input_size"]), 0.0) / 1e9},
                )
            )
    return runs


def _tensorflow_text(name: str) -> str | None:
    local = DATA / "lynceus-tensorflow" / f"{name}.csv"
    if local.is_file():
        return local.read_text()
    mirrored = _mirror_files(f"files/{name}.csv", ".csv")
    if mirrored:
        return next(iter(mirrored.values()))
    raw = _download(f"{_RAW}/{_LYNCEUS}/files/{name}.csv")
    return None if raw is None else raw.decode()


def tensorflow_runs() -> list[ReplayRun] | None:
    """The Lynceus TensorFlow runs as replay runs, or None when the data cannot be had."""
    runs: list[ReplayRun] = []
    for model, name in (
        ("cnn", "t2_cnn_intermediate_values"),
        ("mlp", "t2_multilayer_intermediate_values"),
        ("rnn", "t2_rnn"),
    ):
        text = _tensorflow_text(name)
        if text is None:
            return None
        for row in csv.DictReader(io.StringIO(text)):
            workers, ps = int(row["n_workers"]), int(row["n_ps"])
            price, vcpus, memory = _T2[row["vm_flavor"]]
            batch = int(row["batch_size"])
            workload = WorkloadProfile(
                name=f"tf-{model}-lr{row['learning_rate']}-b{batch}-{row['synchronism']}",
                framework="tensorflow",
                gpu_required=False,
                # The data sets do not state their size; one nominal size for every job.
                dataset_size_gb=0.1,
                batch_size=batch,
                distributed=True,
                max_nodes=128,
                spot_allowed=False,
            )
            hours = float(row["training_time"]) / 3600.0
            nodes = workers + ps
            runs.append(
                ReplayRun(
                    workload=workload,
                    offering=_offering(row["vm_flavor"], vcpus, memory, price),
                    nodes=nodes,
                    outcome=ReplayOutcome(
                        status=JobStatus.COMPLETED,
                        hours=hours,
                        cost=hours * nodes * price,
                    ),
                    attributes={"accuracy": float(row["acc"])},
                )
            )
    return runs


def parse_cherrypick(workload_name: str, text: str) -> list[ReplayRun]:
    """One CherryPick file (``CP_<workload>.csv``) as replay runs (rules: module docstring).

    Raises ``ValueError`` on a VM type without an authors' price, a ``vm_cost`` that is not that
    price, or a file with no runs.
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ValueError(f"cherrypick {workload_name}: no runs")
    setups: dict[str, set[tuple[str, int]]] = {}
    for row in rows:
        setups.setdefault(row["vm_name"], set()).add((row["disk_name"], int(row["disk_count"])))
    workload = WorkloadProfile(
        name=f"cherrypick-{workload_name}",
        framework="custom",
        gpu_required=False,
        # The files do not state input sizes: Scout's nominal 1 GB (module docstring).
        dataset_size_gb=1.0,
        distributed=True,
        max_nodes=56,  # the largest cluster measured
        spot_allowed=False,
    )
    runs: list[ReplayRun] = []
    for line, row in enumerate(rows, start=2):
        vm = row["vm_name"]
        price = _CHERRYPICK_PRICES.get(vm)
        if price is None:
            raise ValueError(f"cherrypick {workload_name} line {line}: no price for {vm!r}")
        if abs(float(row["vm_cost"]) - price) > 1e-9:
            raise ValueError(
                f"cherrypick {workload_name} line {line}: vm_cost {row['vm_cost']} is not the "
                f"authors' price {price} for {vm}"
            )
        disk, disks = row["disk_name"], int(row["disk_count"])
        instance = vm if len(setups[vm]) == 1 else f"{vm}+{disks}x{disk}"
        nodes = int(row["num_machines"])
        hours = float(row["time"]) / 3600.0
        runs.append(
            ReplayRun(
                workload=workload,
                offering=_offering(
                    instance,
                    int(row["cpu_count"]),
                    float(row["ram"]),
                    price,
                    region="unstated",
                    source=_CHERRYPICK_SOURCE,
                    price_date=_CHERRYPICK_PRICE_DATE,
                ),
                nodes=nodes,
                outcome=ReplayOutcome(
                    status=JobStatus.COMPLETED, hours=hours, cost=hours * nodes * price
                ),
                attributes={"disk_type": disk, "disk_count": float(disks)},
            )
        )
    return runs


def _cherrypick_text(name: str) -> str | None:
    local = DATA / "cherrypick" / f"CP_{name}.csv"
    if local.is_file():
        return local.read_text()
    mirrored = _mirror_files(f"data/cherrypick/CP_{name}.csv", ".csv")
    if mirrored:
        return next(iter(mirrored.values()))
    raw = _download(f"{_RAW}/{_LYNCEUS}/data/cherrypick/CP_{name}.csv")
    return None if raw is None else raw.decode()


def cherrypick_runs() -> list[ReplayRun] | None:
    """The CherryPick runs as replay runs, or None when the data cannot be had."""
    runs: list[ReplayRun] = []
    for name in _CHERRYPICK_WORKLOADS:
        text = _cherrypick_text(name)
        if text is None:
            return None
        runs.extend(parse_cherrypick(name, text))
    return runs


SOURCES = {
    "scout": scout_runs,
    "lynceus-tensorflow": tensorflow_runs,
    "cherrypick": cherrypick_runs,
}
