"""Low-level differentiable ops shared by the flow and segmentation code.

``warp`` — bilinear backward warping in pixel units with a validity mask (docs/conventions.md).
``correlation`` / ``Correlation`` — PWC-Net's cost volume with an exact PyTorch reference and a CuPy CUDA
kernel (``kernels/correlation.cu``), chosen by ``use_backend`` / ``$WORKBENCH_CORR_BACKEND`` (auto|torch|cupy).
Only this package may import CuPy, and only lazily.
"""

from workbench.ops.correlation import (
    Correlation,
    available_backends,
    correlation,
    correlation_flops_bytes,
    get_backend,
    use_backend,
)
from workbench.ops.warp import flow_grid, warp

__all__ = [
    "Correlation",
    "available_backends",
    "correlation",
    "correlation_flops_bytes",
    "flow_grid",
    "get_backend",
    "use_backend",
    "warp",
]
