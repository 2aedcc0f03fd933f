"""The explorer's frame player (dashboard/player.py) without a browser: the windows of frames it is sent, their
size, and what one frame's view holds. Its behaviour in the browser (a frame change without a rerun, the timeline's
marker, step and play) is in test_browser.py."""

from __future__ import annotations

import base64
import sys

import cv2
import numpy as np
import pytest
from conftest import ROOT

pytest.importorskip("streamlit")
sys.path.insert(0, str(ROOT / "dashboard"))
import player  # noqa: E402


def test_window_is_the_frames_block_and_its_neighbours():
    assert list(player.window(0, 100, 16)) == list(range(0, 32))
    assert list(player.window(17, 100, 16)) == list(range(0, 48))
    assert list(player.window(31, 100, 16)) == list(range(0, 48))  # one block: the data sent does not change
    assert list(player.window(32, 100, 16)) == list(range(16, 64))
    assert list(player.window(99, 100, 16)) == list(range(80, 100))
    assert list(player.window(0, 5, 16)) == list(range(5))
    for frame in range(100):  # the frame always has a block of frames on each side that are already there
        shown = player.window(frame, 100, 8)
        assert frame in shown and (frame // 8 * 8 - 1 in shown or frame < 8) and (frame // 8 * 8 + 8 in shown
                                                                                     or frame >= 88)


def test_block_size_keeps_a_window_near_its_budget():
    assert player.block_size(192, 320, 6) == 10
    assert player.block_size(360, 640, 6) == 5
    assert player.block_size(1080, 1920, 8) == 4  # never fewer: a block shift then comes every 4 frames
    assert player.block_size(1, 1, 1) == 32
    for height, width, panels in [(192, 320, 6), (360, 640, 6), (360, 640, 2), (720, 1280, 8)]:
        block = player.block_size(height, width, panels)
        if block > 4:
            scale = min(1.0, player.MAX_WIDTH / width)
            per_frame = panels * height * width * scale ** 2 * player.BYTES_PER_PIXEL * 4 / 3
            assert 3 * block * per_frame <= player.WINDOW_BYTES


def test_frame_view_pictures_and_notes():
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 255, (360, 1280, 3), np.uint8)
    view = player.frame_view("**clip** · frame **3** of 9 · <b>not markup</b> & co", [
        (wide, "input, frame 3"), (None, "flow: none this frame")])
    assert view["caption"] == ("<b>clip</b> · frame <b>3</b> of 9 · &lt;b&gt;not markup&lt;/b&gt; &amp; co")
    picture, note = view["panels"]
    assert note == {"src": None, "caption": "flow: none this frame"}
    assert picture["caption"] == "input, frame 3" and picture["src"].startswith("data:image/jpeg;base64,")
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(picture["src"].split(",", 1)[1]), np.uint8),
                           cv2.IMREAD_COLOR)
    assert decoded.shape == (135, player.MAX_WIDTH, 3)  # downscaled to the width the page shows


def test_what_the_player_is_sent_after_its_report():
    session = {"frame": 0, "player_seq": 0}
    assert player.frame_sent(session, "player", 0, mounted=False) == {"frame": 0, "seq": 0}
    session.update(frame=3, player_seq=2, player_reported=3)  # the player reported frame 3 (its change 2)
    assert player.frame_sent(session, "player", 3, mounted=True) == {"frame": 0, "seq": 0}  # the same data again
    assert "player_reported" not in session
    session.update(frame=4, player_seq=3, player_reported=4)
    assert player.frame_sent(session, "player", 7, mounted=True) == {"frame": 7, "seq": 3}  # moved since: say so
    session.update(player_seq=4, player_reported=7)
    assert player.frame_sent(session, "player", 7, mounted=False) == {"frame": 7, "seq": 4}  # a new player
    assert player.frame_sent(session, "player", 7, mounted=True) == {"frame": 7, "seq": 4}  # no report: the same


def test_jpeg_quality_is_passed_to_the_encoder():
    from workbench.io import encode_image

    picture = np.random.default_rng(1).integers(0, 255, (96, 160, 3), np.uint8)
    assert len(encode_image(picture, ".jpg", quality=40)) < len(encode_image(picture, ".jpg", quality=95))
    assert len(encode_image(picture, ".webp", quality=40)) < len(encode_image(picture, ".webp", quality=95))
