"""Image folders and video files: pairing, mask values, decoding, atomic writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.io.folders import ImageFolderSequence
from workbench.io.images import write_image, write_mask
from workbench.io.video import VideoSequence, VideoWriter

W, H = 64, 48


def smooth_frame(t: int) -> np.ndarray:
    """A smooth colour gradient that drifts with t (mp4v keeps smooth images close to the original)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    r = 128 + 100 * np.sin((x + 3 * t) / 12)
    g = 128 + 100 * np.cos((y - 2 * t) / 10)
    b = np.full_like(x, 40 + 20 * t)
    return np.clip(np.stack([r, g, b], axis=2), 0, 255).astype(np.uint8)


def box_mask(t: int) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[8:32, 10 + 2 * t:34 + 2 * t] = 255
    return mask


def write_video(path: Path, frames: list[np.ndarray], fps: float = 12.0) -> None:
    with VideoWriter(path, fps, (frames[0].shape[1], frames[0].shape[0])) as writer:
        for frame in frames:
            writer.write(frame)


# --- image folders -------------------------------------------------------------------------------------


def test_image_folder_natural_order_and_masks_by_stem(tmp_path):
    frames, masks = tmp_path / "frames", tmp_path / "masks"
    for n in (10, 2, 1):
        write_image(frames / f"frame{n}.jpg", np.full((8, 12, 3), 10 * n, np.uint8))
        write_mask(masks / f"frame{n}.png", np.full((8, 12), 255 if n == 2 else 0, np.uint8))
    write_mask(masks / "unused.png", np.zeros((8, 12), np.uint8))  # a mask without a frame is ignored
    seq = ImageFolderSequence(frames, masks)
    assert seq.name == "frames" and len(seq) == 3 and seq.size == (12, 8)
    assert [p.name for p in seq.frame_files] == ["frame1.jpg", "frame2.jpg", "frame10.jpg"]
    assert [p.name for p in seq.mask_files] == ["frame1.png", "frame2.png", "frame10.png"]
    assert [int(round(seq.frame(i).mean())) for i in range(3)] == [10, 20, 100]
    np.testing.assert_array_equal(seq.mask(1), np.ones((8, 12), np.uint8))  # 0/255 → 0/1


def test_image_folder_mask_values(tmp_path):
    write_image(tmp_path / "f" / "a.png", np.zeros((4, 6, 3), np.uint8))
    write_image(tmp_path / "f" / "b.png", np.zeros((4, 6, 3), np.uint8))
    ids = np.array([[0, 1, 2, 255, 0, 0]] * 4, np.uint8)
    binary = np.array([[0, 255, 255, 0, 0, 0]] * 4, np.uint8)
    write_mask(tmp_path / "m" / "a.png", ids)
    write_mask(tmp_path / "m" / "b.png", binary)
    seq = ImageFolderSequence(tmp_path / "f", tmp_path / "m")
    np.testing.assert_array_equal(seq.mask(0), ids)  # class ids kept as stored, 255 = ignore
    np.testing.assert_array_equal(seq.mask(1), binary // 255)


def test_image_folder_missing_mask_and_wrong_size(tmp_path):
    for name in ("a", "b"):
        write_image(tmp_path / "f" / f"{name}.png", np.zeros((4, 6, 3), np.uint8))
    write_mask(tmp_path / "m" / "a.png", np.zeros((4, 6), np.uint8))
    with pytest.raises(InputError, match=r"f/b\.png: no mask named b\.\*"):
        ImageFolderSequence(tmp_path / "f", tmp_path / "m")
    write_mask(tmp_path / "m" / "b.png", np.zeros((5, 6), np.uint8))
    seq = ImageFolderSequence(tmp_path / "f", tmp_path / "m")
    with pytest.raises(InputError, match=r"m/b\.png: mask is 6x5, expected 6x4"):
        seq.mask(1)
    assert ImageFolderSequence(tmp_path / "f").has_masks is False


# --- video ---------------------------------------------------------------------------------------------


def test_video_round_trip(tmp_path):
    frames = [smooth_frame(t) for t in range(6)]
    path = tmp_path / "clip.mp4"
    write_video(path, frames, fps=12)
    seq = VideoSequence(path)
    assert (seq.name, len(seq), seq.size, seq.fps) == ("clip", 6, (W, H), 12.0)
    assert not seq.has_masks
    streamed = list(seq.frames())
    assert len(streamed) == 6
    for original, decoded in zip(frames, streamed, strict=True):
        assert decoded.dtype == np.uint8 and decoded.shape == (H, W, 3)
        # lossy codec: close on average; RGB order kept (a BGR swap would differ by ~80 per pixel)
        assert np.abs(decoded.astype(int) - original).mean() < 6
    np.testing.assert_array_equal(seq.frame(4), streamed[4])  # random access matches streaming
    np.testing.assert_array_equal(seq.frame(-1), streamed[5])
    with pytest.raises(IndexError):
        seq.frame(6)
    assert len(list(seq.frames())) == 6  # streams again (nothing was cached whole)


def test_video_writer_is_atomic(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, 10, (W, H)) as writer:
        writer.write(smooth_frame(0))
        assert not path.exists()
        temps = [p for p in tmp_path.iterdir() if p.suffix == ".mp4"]
        assert len(temps) == 1 and temps[0].name.startswith(".out.mp4")
        with pytest.raises(ValueError, match=r"frame must be uint8 \(48, 64, 3\)"):
            writer.write(np.zeros((H, W + 2, 3), np.uint8))
    assert path.is_file() and list(tmp_path.iterdir()) == [path]

    failed = tmp_path / "failed.mp4"
    with pytest.raises(RuntimeError, match="boom"), VideoWriter(failed, 10, (W, H)) as writer:
        writer.write(smooth_frame(0))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == [path]  # neither the file nor its temporary remains

    with pytest.raises(ValueError, match="no frames written"), VideoWriter(tmp_path / "empty.mp4", 10, (W, H)):
        pass
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(InputError, match=r"x\.mov: expected a video file name ending in \.webm, \.mp4, \.avi"):
        VideoWriter(tmp_path / "x.mov", 10, (W, H))


@pytest.mark.parametrize("suffix", [".webm", ".avi"])
def test_video_writer_codec_follows_the_suffix(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    frames = [smooth_frame(i) for i in range(4)]
    with VideoWriter(path, 10, (W, H)) as writer:
        for frame in frames:
            writer.write(frame)
    seq = VideoSequence(path)
    assert len(seq) == 4 and seq.size == (W, H)
    assert np.abs(seq.frame(2).astype(int) - frames[2]).mean() < 8  # lossy, colours in RGB order


def test_mask_video_is_binarised(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(4)])
    write_video(tmp_path / "m.mp4", [box_mask(t) for t in range(4)])
    seq = VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "m.mp4")
    assert seq.has_masks and seq.classes == ["background", "person"]
    for t in (3, 0):
        mask = seq.mask(t)
        assert mask.shape == (H, W) and set(np.unique(mask)) <= {0, 1}
        assert np.mean(mask == box_mask(t) // 255) > 0.97


def test_mask_folder_paired_by_order(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(3)])
    for t in range(3):
        write_mask(tmp_path / "masks" / f"m{t * 5}.png", box_mask(t))  # m0, m5, m10: natural order
    seq = VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "masks")
    assert [p.name for p in seq.mask_files] == ["m0.png", "m5.png", "m10.png"]
    np.testing.assert_array_equal(seq.mask(2), box_mask(2) // 255)


def test_mask_count_and_size_mismatch(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(3)])
    write_video(tmp_path / "short.mp4", [box_mask(t) for t in range(2)])
    with pytest.raises(InputError, match=r"short\.mp4: mask video has 2 frames, .*v\.mp4 has 3"):
        VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "short.mp4")
    write_video(tmp_path / "small.mp4", [np.zeros((H // 2, W // 2), np.uint8)] * 3)
    with pytest.raises(InputError, match=r"small\.mp4: mask video is 32x24, expected 64x48"):
        VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "small.mp4")
    for t in range(2):
        write_mask(tmp_path / "masks" / f"{t}.png", box_mask(t))
    with pytest.raises(InputError, match=r"masks: 2 masks for the 3 frames"):
        VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "masks")
    with pytest.raises(InputError, match="not found"):
        VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "nothing")


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 50])
def test_unreadable_video(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"broken\.mp4: cannot decode video"):
        VideoSequence(path)


def test_truncated_video(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(4)])
    data = (tmp_path / "v.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="cannot decode video"):
        VideoSequence(tmp_path / "cut.mp4")
    with pytest.raises(InputError, match="not found"):
        VideoSequence(tmp_path / "missing.mp4")


def test_mask_file_must_be_a_video(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(2)])
    write_mask(tmp_path / "one.png", box_mask(0))
    with pytest.raises(InputError, match=r"one\.png: not a video file"):
        VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "one.png")


# --- streaming: no reader decodes a whole video ------------------------------------------------------------


def test_random_access_streams_with_bounded_memory(tmp_path):
    """frame(i) over a whole video in order decodes each frame once and keeps only the last few frames."""
    import tracemalloc

    count = 150
    write_video(tmp_path / "v.mp4", [smooth_frame(t % 40) for t in range(count)])
    seq = VideoSequence(tmp_path / "v.mp4", cache_frames=4)
    streamed = list(seq.frames())
    frame_bytes = H * W * 3
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for t in range(count):
            np.testing.assert_array_equal(seq.frame(t), streamed[t])
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seq._frame_cursor.opened == 1  # one pass over the file
    # The cache (4 frames) and a frame or two in flight; the whole video would be 150 frames.
    assert current - start < 12 * frame_bytes and peak - start < 16 * frame_bytes


def test_random_access_backwards_and_the_cache(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(12)])
    seq = VideoSequence(tmp_path / "v.mp4", cache_frames=3)
    streamed = list(seq.frames())
    np.testing.assert_array_equal(seq.frame(9), streamed[9])  # skips forward
    np.testing.assert_array_equal(seq.frame(8), streamed[8])  # behind the cursor: reopens
    assert seq._frame_cursor.opened == 2
    np.testing.assert_array_equal(seq.frame(9), streamed[9])
    np.testing.assert_array_equal(seq.frame(8), streamed[8])  # (t - 1, t) pairs come from the cache
    assert seq._frame_cursor.opened == 2
    seq.frame(8)[:] = 0  # callers get copies: the cache is not changed through them
    np.testing.assert_array_equal(seq.frame(8), streamed[8])
    np.testing.assert_array_equal(seq.frame(0), streamed[0])
    seq.close()
    np.testing.assert_array_equal(seq.frame(11), streamed[11])  # reopens after close()


def test_mask_video_streams(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(10)])
    write_video(tmp_path / "m.mp4", [box_mask(t) for t in range(10)])
    seq = VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "m.mp4")
    masks = [seq.mask(t) for t in range(10)]
    assert seq._mask_cursor.opened == 1 and len(seq._mask_cursor._frames) <= seq.cache_frames
    for t in (7, 2):
        np.testing.assert_array_equal(seq.mask(t), masks[t])


def test_video_changed_after_opening(tmp_path):
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(6)])
    seq = VideoSequence(tmp_path / "v.mp4")
    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(3)])
    with pytest.raises(InputError, match=r"v\.mp4: decoded 3 frames, expected 6"):
        seq.frame(5)


def test_video_sequence_pickles_without_its_capture(tmp_path):
    """DataLoader workers pickle datasets: an open capture must not travel, and reading must work on arrival."""
    import pickle

    write_video(tmp_path / "v.mp4", [smooth_frame(t) for t in range(5)])
    write_video(tmp_path / "m.mp4", [box_mask(t) for t in range(5)])
    seq = VideoSequence(tmp_path / "v.mp4", masks=tmp_path / "m.mp4")
    expected, mask = seq.frame(3), seq.mask(3)
    copy = pickle.loads(pickle.dumps(seq))
    np.testing.assert_array_equal(copy.frame(3), expected)
    np.testing.assert_array_equal(copy.mask(3), mask)
