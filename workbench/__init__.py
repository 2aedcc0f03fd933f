"""Research workbench for flow-guided video segmentation.

Re-implements FUNet (flow + U-Net head-and-shoulders segmentation, arXiv 2104.09752) and DVSNet
(dynamic video segmentation with a decision network, arXiv 1804.00931) in PyTorch. See ``README.md``,
``docs/architecture.md`` (layers, where to add things) and ``docs/conventions.md`` (formats, on-disk contracts).
"""

__version__ = "0.1.0"
