"""Readers and writers: images, masks, flow files, clip folders, seed dataset layouts, video files.

Everything leaves this package as ``uint8`` RGB ``(H, W, 3)`` frames, ``uint8 (H, W)`` masks and
``float32 (2, H, W)`` flow in pixels (docs/conventions.md); OpenCV's BGR order stays inside.
"""

from workbench.io.atomic import atomic_dir, atomic_file, write_bytes_atomic, write_text_atomic
from workbench.io.clips import ClipFolder, ClipWriter, find_clip_folders, frame_name, is_clip_folder
from workbench.io.davis import DavisSequence, read_davis, read_davis_mask
from workbench.io.detect import describe_layout, open_dataset
from workbench.io.flo import flo_bytes, read_flo, read_kitti_flow, write_flo, write_kitti_flow
from workbench.io.folders import ImageFolderSequence, normalize_mask
from workbench.io.funet import FunetSequence, read_funet
from workbench.io.images import (
    IMAGE_EXTENSIONS,
    binarize_mask,
    check_binary_mask,
    encode_image,
    list_images,
    natural_key,
    read_image,
    read_image_alpha,
    read_mask,
    write_image,
    write_mask,
)
from workbench.io.sequence import FileSequence, MemorySequence, Sequence
from workbench.io.video import VIDEO_EXTENSIONS, VideoSequence, VideoWriter, is_video_file

__all__ = [
    "IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "ClipFolder", "ClipWriter", "DavisSequence", "FunetSequence",
    "FileSequence", "ImageFolderSequence", "MemorySequence", "Sequence", "VideoSequence", "VideoWriter",
    "atomic_dir", "atomic_file", "binarize_mask", "check_binary_mask", "describe_layout", "encode_image",
    "find_clip_folders", "flo_bytes", "frame_name", "is_clip_folder", "is_video_file", "list_images", "natural_key",
    "normalize_mask", "open_dataset", "read_davis", "read_davis_mask", "read_flo", "read_funet", "read_image",
    "read_image_alpha", "read_kitti_flow", "read_mask", "write_bytes_atomic", "write_flo", "write_image",
    "write_kitti_flow", "write_mask", "write_text_atomic",
]
