"""``prisonsim animate``: a whole run as a GIF (always) or MP4 (the animate extra).

The animations are read back and checked frame by frame: one frame per step (or per
``--every`` steps) from the start to the end of the run, the legend's colours exactly,
side by side arms stepping together; bad input is one line and exit code 2, and an
interrupted render leaves no file behind.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from sim.cli import main
from sim.config.scenario import load_scenario
from sim.model import run_replicate
from sim.viz import animation
from sim.viz.palette import inmate_looks


def _gif_frames(path) -> list[np.ndarray]:
    image = Image.open(path)
    frames = []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(np.asarray(image.convert("RGB")))
    return frames


def _has_colour(frame: np.ndarray, colour: str) -> bool:
    rgb = np.array([round(255 * c) for c in to_rgb(colour)])
    return bool((np.abs(frame.astype(int) - rgb).sum(axis=2) == 0).any())


@pytest.mark.slow  # about a minute: every frame of a whole run is drawn
def test_gif_of_a_whole_run_one_frame_per_four_steps(tmp_path, capsys):
    out = tmp_path / "run.gif"
    assert (
        main(["animate", "teaching_small", "--seed", "2", "--every", "4", "--out", str(out)]) == 0
    )
    steps = run_replicate(load_scenario("teaching_small").params, 2).steps
    frames = _gif_frames(out)
    assert len(frames) == 1 + math.ceil(steps / 4), (len(frames), steps)
    assert frames[0].shape == (540, 960, 3), frames[0].shape
    assert not np.array_equal(frames[0], frames[-1]), "the run must change the picture"
    rioting = inmate_looks()["inmates_rioting"].colour
    map_area = (slice(54, 378), slice(10, 509))  # the map's axes (build_scene), in pixels
    assert any(_has_colour(f[map_area], rioting) for f in frames), "rioting cells, exact colour"
    assert f"wrote {out}" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*part*")), "no partial file left"


def test_mp4_side_by_side_policies_with_the_same_seed(tmp_path):
    iio = pytest.importorskip("imageio.v3", reason=animation.MP4_HINT)
    pytest.importorskip("imageio_ffmpeg", reason=animation.MP4_HINT)
    out = tmp_path / "cmp.mp4"
    args = ["animate", "teaching_small", "--compare", "guards_per_100_inmates=8"]
    assert main([*args, "--every", "6", "--fps", "5", "--out", str(out)]) == 0
    params = load_scenario("teaching_small").params
    longest = max(
        run_replicate({**params, **levers}, 1).steps
        for levers in ({}, {"guards_per_100_inmates": 8.0})
    )
    frames = iio.imread(out)
    held = round(2.0 * 5)  # the last frame is held 2 s
    assert len(frames) == 1 + math.ceil(longest / 6) + held, (len(frames), longest)
    assert frames.shape[1:] == (540, 960, 3), frames.shape


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{tmp}/run.txt"], "must end in .gif or .mp4"),
        (["--out", "{tmp}/missing/run.gif"], "does not exist"),
        (["--out", "{tmp}/run.gif", "--compare", "attackers=5"], "not a lever"),
        (["--out", "{tmp}/run.gif", "--compare", "guards_per_100_inmates=99"], "out of range"),
        (["--out", "{tmp}/run.gif", "--set", "responder_delay=2"], "responder_delay_h"),
        (["--out", "{tmp}/run.gif", "--fps", "0"], "--fps"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    argv = ["animate", "teaching_small", *(a.format(tmp=tmp_path) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not list(tmp_path.iterdir()), "nothing written"


def test_mp4_without_its_writer_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sim.cli.animate.mp4_available", lambda: False)
    assert main(["animate", "teaching_small", "--out", str(tmp_path / "run.mp4")]) == 2
    err = capsys.readouterr().err
    assert animation.MP4_HINT in err and ".gif" in err, err


def test_an_interrupted_render_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(path, images, fps):
        next(iter(images))
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.cli.animate.write_gif", interrupted)
    out = tmp_path / "run.gif"
    assert main(["animate", "teaching_small", "--out", str(out)]) == 130
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())
