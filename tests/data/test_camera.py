"""The webcam pipeline model: the identity preset, determinism, and each effect measured on small frames."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from workbench.data.camera import CAMERA_PRESETS, CameraConfig, CameraModel, camera_preset
from workbench.errors import InputError

W, H = 96, 64
NONE = camera_preset("none")
ALL_ON = CameraConfig(**{name: 1.0 for name in CameraConfig.__dataclass_fields__ if name.endswith("_prob")},
                      stream_widths=(48,))


def _only(**changes) -> CameraConfig:
    """The identity camera with some effects switched on."""
    return replace(NONE, **changes)


def _run(config: CameraConfig, frames: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    h, w = frames[0].shape[:2]
    camera = CameraModel(config, np.random.default_rng(seed), len(frames), (w, h))
    return [camera.apply(frame, i) for i, frame in enumerate(frames)]


def _quantise(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _flat(value: float, n: int = 1, size: tuple[int, int] = (W, H)) -> list[np.ndarray]:
    return [np.full((size[1], size[0], 3), value, np.float32) for _ in range(n)]


def _scene(n: int = 6, size: tuple[int, int] = (W, H), shift: int = 2) -> list[np.ndarray]:
    """Smooth colour gradients, a fine texture, and a bright square moving ``shift`` px per frame."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    texture = np.random.default_rng(7).random((h, w, 1), dtype=np.float32)
    base = np.stack([0.3 + 0.4 * xx / w, 0.5 + 0.2 * np.sin(yy / 5.0), 0.6 - 0.3 * yy / h], -1)
    base = (0.8 * base + 0.2 * texture).astype(np.float32)
    frames = []
    for t in range(n):
        frame = base.copy()
        frame[h // 4:h // 2, w // 8 + shift * t:w // 8 + shift * t + w // 6] = (0.95, 0.8, 0.7)
        frames.append(frame)
    return frames


def _grey(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float64).mean(axis=2)


def _detail(frame: np.ndarray) -> float:
    """High-frequency energy: variance of the Laplacian of the grey image (away from the border)."""
    return float(cv2.Laplacian(_grey(frame), cv2.CV_64F)[4:-4, 4:-4].var())


def test_none_preset_is_the_identity_quantisation():
    frames = _scene(4)
    frames[1] = np.random.default_rng(0).uniform(-0.2, 1.2, (H, W, 3)).astype(np.float32)  # clipped both ways
    for frame, out in zip(frames, _run(NONE, frames), strict=True):
        assert out.dtype == np.uint8 and np.array_equal(out, np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("config", [camera_preset("webcam"), camera_preset("harsh"), ALL_ON],
                         ids=["webcam", "harsh", "all-on"])
def test_same_seed_same_bytes_other_seed_differs(config):
    frames = _scene(5)
    first, again, other = _run(config, frames, 3), _run(config, frames, 3), _run(config, frames, 4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("name", CAMERA_PRESETS)
def test_output_shape_and_dtype_at_an_odd_size(name):
    size = (97, 61)  # not a multiple of the codec's 16-pixel macroblocks, nor of the chroma's 2
    for config in (camera_preset(name), ALL_ON):
        for out in _run(config, _scene(3, size)):
            assert out.shape == (61, 97, 3) and out.dtype == np.uint8


def test_every_stage_changes_the_frame_and_all_on_keeps_the_brightness():
    frames = _scene(3)
    out = _run(ALL_ON, frames, seed=1)[-1]
    assert not np.array_equal(out, _quantise(frames[-1]))
    assert abs(out.mean() - _quantise(frames[-1]).mean()) < 60  # a camera, not a different scene


def test_noise_grows_with_the_signal_and_is_fresh_each_frame():
    dark_bright = np.full((H, W, 3), 0.1, np.float32)
    dark_bright[:, W // 2:] = 0.8
    # Linear input (gamma 1): the output variance itself is λ_shot s + λ_read, in grey levels².
    config = _only(noise_prob=1.0, shot_noise=(4e-3, 4e-3), chroma_noise=(2.0, 2.0), gamma=1.0)
    out = [o.astype(np.float64) for o in _run(config, [dark_bright] * 2)]
    dark, bright = out[0][:, : W // 2], out[0][:, W // 2:]
    assert bright.var(axis=(0, 1)).min() > 4 * dark.var(axis=(0, 1)).max()  # expected ratio ≈ 8
    assert abs(bright.mean() - 0.8 * 255) < 1.5 and abs(dark.mean() - 0.1 * 255) < 1.5  # zero-mean noise
    luma = bright.mean(axis=2, keepdims=True)
    ratio = (bright - luma).std() / luma.std()
    assert 1.5 < ratio < 2.6  # chroma_noise = 2: chroma σ / luma σ
    residual = [o[:, W // 2:] - 0.8 * 255 for o in out]
    assert abs(np.corrcoef(residual[0].ravel(), residual[1].ravel())[0, 1]) < 0.1  # independent frames
    # Display-referred input (gamma 2): in linear light the variance still grows with the signal.
    config = replace(config, gamma=2.0)
    linear = (_run(config, [dark_bright])[0].astype(np.float64) / 255.0) ** 2
    assert linear[:, W // 2:].var() > 4 * linear[:, : W // 2].var()


def test_vignetting_darkens_the_corners_only():
    out = _grey(_run(_only(vignette_prob=1.0, vignette_strength=(0.4, 0.4)), _flat(0.5))[0])
    centre = out[H // 2 - 3:H // 2 + 3, W // 2 - 3:W // 2 + 3].mean()
    corners = [out[:4, :4].mean(), out[:4, -4:].mean(), out[-4:, :4].mean(), out[-4:, -4:].mean()]
    assert abs(centre - 128) <= 3
    assert max(corners) < 0.85 * centre  # 40 % less light ≈ 23 % lower in display values (gamma 2)


def _exposure(damping: float, delay: int = 2) -> CameraConfig:
    return _only(exposure_prob=1.0, exposure_bias=(0.0, 0.0), exposure_settle=(1.0, 1.0),
                 exposure_damping=(damping, damping), exposure_delay=(delay, delay), exposure_drift=(0.0, 0.0))


def test_auto_exposure_compensates_a_step_down_with_lag():
    step = 20
    frames = _flat(0.6, step, (32, 24)) + _flat(0.3, 70, (32, 24))
    means = [o.mean() for o in _run(_exposure(1.0), frames)]
    before, dropped = means[step - 1], means[step]
    assert abs(before - 0.6 * 255) < 2  # bias 0: the first frame's level is the target
    assert dropped < before - 50  # the drop shows before the AE reacts
    assert abs(means[step + 2] - dropped) < 0.1 * (before - dropped)  # ... and for the delay
    assert abs(means[-1] - before) < 0.25 * (before - dropped)  # mostly compensated after ≈2 s
    assert all(b >= a - 0.5 for a, b in zip(means[step:-1], means[step + 1:], strict=True))  # damped: no overshoot
    # Under-damped: it overshoots the old level, then settles back.
    means = [o.mean() for o in _run(_exposure(0.35), frames)]
    assert max(means[step:]) > before + 5
    assert abs(means[-1] - before) < 0.25 * (before - dropped)
    # The delay shifts the whole response: three frames late is the prompt response three frames on.
    prompt = [o.mean() for o in _run(_exposure(0.35, delay=0), frames)]
    late = [o.mean() for o in _run(_exposure(0.35, delay=3), frames)]
    assert np.allclose(late[step + 3:], prompt[step:-3]) and not np.allclose(late[step:], prompt[step:])


def test_resolution_loss_removes_detail_but_keeps_the_mean():
    frames = _scene(2, (160, 96))
    config = _only(lowres_prob=1.0, stream_widths=(64, 1024))  # 1024 is wider than the frame: never drawn
    camera = CameraModel(config, np.random.default_rng(0), 2, (160, 96))
    out = camera.apply(frames[0], 0)
    ref = _quantise(frames[0])
    assert camera.describe()["stream_size"] == [64, 38]
    assert _detail(out) < 0.25 * _detail(ref)
    assert abs(out.astype(np.float64).mean() - ref.mean()) < 1.5
    wide = _only(lowres_prob=1.0, stream_widths=(160, 320))  # nothing below the frame width: no loss
    assert np.array_equal(_run(wide, frames[:1])[0], ref)


def test_defocus_blurs_but_keeps_the_mean():
    frames = _scene(1, (160, 96))
    out, ref = _run(_only(defocus_prob=1.0, defocus_radius=(0.02, 0.02)), frames)[0], _quantise(frames[0])
    assert _detail(out) < 0.3 * _detail(ref)
    assert abs(out.astype(np.float64).mean() - ref.mean()) < 2


def test_white_balance_cast_tints_grey():
    out = _run(_only(wb_prob=1.0, wb_cast=(0.1, 0.1), wb_drift=(0.0, 0.0)), _flat(0.5))[0].astype(np.float64)
    red, green, blue = out.reshape(-1, 3).mean(axis=0)
    assert abs(np.log(red / blue)) > 0.08  # ±0.1 in linear log gain each way ≈ ±0.05 each in display
    assert abs(green - 128) < 3  # normalised gains: a colour change, not a brightness change


def _psnr(outs: list[np.ndarray], frames: list[np.ndarray]) -> list[float]:
    return [cv2.PSNR(o, _quantise(f)) for o, f in zip(outs, frames, strict=True)]


def test_jpeg_quality_bounds_the_error():
    frames = _scene(1, (160, 96))
    low = _run(_only(jpeg_prob=1.0, jpeg_quality=(10, 10)), frames)[0]
    high = _run(_only(jpeg_prob=1.0, jpeg_quality=(95, 95)), frames)[0]
    assert _psnr([low], frames)[0] < 30
    assert _psnr([high], frames)[0] > 38


def test_video_codec_rate_sets_quality_and_predicted_frames_refine_a_still():
    frames = _scene(6, (160, 96))

    def video(bpp: float) -> CameraConfig:
        return _only(video_prob=1.0, video_bpp=(bpp, bpp), video_key_interval=(100, 100))

    starved, generous = np.mean(_psnr(_run(video(0.03), frames), frames)), np.mean(_psnr(_run(video(1.0), frames),
                                                                                          frames))
    assert generous > 32 and starved < generous - 5
    still = frames[:1] * 6
    psnr = _psnr(_run(video(0.1), still), still)
    assert psnr[-1] > psnr[0] + 1  # each predicted frame codes part of what the key frame lost


@pytest.mark.parametrize("field, value", [
    ("defocus_prob", 1.5), ("jpeg_quality", (0, 50)), ("jpeg_quality", (30.5, 40)), ("exposure_settle", (2.0, 1.0)),
    ("stream_widths", ()), ("gamma", 0.0), ("contrast", (0.0, 2.0)), ("shot_noise", (0.0, 1e-3)),
    ("exposure_delay", (1,)),
])
def test_invalid_config_names_the_field(field, value):
    config = replace(camera_preset("webcam"), **{field: value})
    with pytest.raises(InputError, match=field):
        config.validate()
    with pytest.raises(InputError, match=field):
        CameraModel(config, np.random.default_rng(0), 4, (W, H))


def test_bad_calls_are_input_errors():
    with pytest.raises(InputError, match="preset"):
        camera_preset("studio")
    camera = CameraModel(camera_preset("webcam"), np.random.default_rng(0), 4, (W, H))
    frames = _scene(3)
    with pytest.raises(InputError, match="expected"):
        camera.apply(frames[0][:, :-1], 0)
    first = [camera.apply(frames[0], 0), camera.apply(frames[1], 1)]
    with pytest.raises(InputError, match="order"):
        camera.apply(frames[2], 3)
    again = [camera.apply(frames[0], 0), camera.apply(frames[1], 1)]  # index 0 restarts the clip
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize("name", CAMERA_PRESETS)
def test_config_round_trips_and_describe_is_json(name):
    config = camera_preset(name)
    assert CameraConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    for seed in range(5):
        camera = CameraModel(config, np.random.default_rng(seed), 4, (400, 240))  # harsh streams are 160–320 wide
        described = json.loads(json.dumps(camera.describe()))
        if name == "none":
            assert described["noise"] is None and described["jpeg_quality"] is None and described["video"] is None
        if name == "harsh":
            assert described["stream_size"] is not None and described["video"] is not None
