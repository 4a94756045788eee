"""GPU counts per instance type where the platform's catalog reports them wrong (§3.4 quirks).

The AWS rows say 1 GPU for every GPU instance, the GCP rows read the count from the vCPU suffix;
these tables give the counts the providers document, and ``corrected_gpu_count`` applies them.
Azure's crude GPU mapping is left alone: nothing in the row says what is right.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from artenic_opt.platform.models import CatalogComputeFlavor

#: GPUs per instance as AWS documents them, for the GPU families the platform labels. The
#: platform reports 1 for all of these (§3.4 [QUIRK]).
AWS_GPU_COUNTS: dict[str, int] = {
    "p2.xlarge": 1,
    "p2.8xlarge": 8,
    "p2.16xlarge": 16,
    "p3.2xlarge": 1,
    "p3.8xlarge": 4,
    "p3.16xlarge": 8,
    "p3dn.24xlarge": 8,
    "p4d.24xlarge": 8,
    "p4de.24xlarge": 8,
    "p5.48xlarge": 8,
    "p5e.48xlarge": 8,
    "p5en.48xlarge": 8,
    "g3s.xlarge": 1,
    "g3.4xlarge": 1,
    "g3.8xlarge": 2,
    "g3.16xlarge": 4,
    "g4dn.xlarge": 1,
    "g4dn.2xlarge": 1,
    "g4dn.4xlarge": 1,
    "g4dn.8xlarge": 1,
    "g4dn.16xlarge": 1,
    "g4dn.12xlarge": 4,
    "g4dn.metal": 8,
    **{f"g5.{size}": 1 for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")},
    "g5.12xlarge": 4,
    "g5.24xlarge": 4,
    "g5.48xlarge": 8,
    **{f"g6.{size}": 1 for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")},
    "g6.12xlarge": 4,
    "g6.24xlarge": 4,
    "g6.48xlarge": 8,
    **{f"g6e.{size}": 1 for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")},
    "g6e.12xlarge": 4,
    "g6e.24xlarge": 4,
    "g6e.48xlarge": 8,
}

#: GCP G2 shapes: L4 count per machine type (the platform reports the vCPU suffix instead).
GCP_G2_GPU_COUNTS: dict[str, int] = {
    "g2-standard-4": 1,
    "g2-standard-8": 1,
    "g2-standard-12": 1,
    "g2-standard-16": 1,
    "g2-standard-24": 2,
    "g2-standard-32": 1,
    "g2-standard-48": 4,
    "g2-standard-96": 8,
}

# a2-highgpu-4g, a2-megagpu-16g, a3-highgpu-8g: the GPU count is the "-<n>g" suffix.
_GCP_ACCELERATOR_SUFFIX = re.compile(r"^a[23]-[a-z]+-(\d+)g$")


def corrected_gpu_count(flavor: CatalogComputeFlavor) -> int:
    """The GPU count of ``flavor`` with the documented AWS and GCP counts applied."""
    name = flavor.name.strip()
    provider_id = flavor.provider_id.strip().casefold()
    if provider_id == "aws" and flavor.gpu_count == 1:
        return AWS_GPU_COUNTS.get(name, flavor.gpu_count)
    if provider_id == "gcp" and flavor.gpu_count > 0:
        if name in GCP_G2_GPU_COUNTS:
            return GCP_G2_GPU_COUNTS[name]
        match = _GCP_ACCELERATOR_SUFFIX.match(name)
        if match:
            return int(match.group(1))
    return flavor.gpu_count
