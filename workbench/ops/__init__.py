"""Low-level differentiable ops shared by the flow and segmentation code.

``warp`` — bilinear backward warping in pixel units with a validity mask (DESIGN.md §3). The correlation
(cost-volume) op with its CuPy kernel arrives with the flow networks; only this package may import CuPy.
"""

from workbench.ops.warp import flow_grid, warp

__all__ = ["flow_grid", "warp"]
