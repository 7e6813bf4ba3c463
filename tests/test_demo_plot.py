"""python -m fastinit demo --plot: the picture is written, and a path it cannot write is
refused before the demo runs."""
import pytest

pytest.importorskip("matplotlib")

from fastinit import _demo  # noqa: E402
from fastinit.__main__ import main  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_plot_writes_a_png(tmp_path, capsys):
    from matplotlib.image import imread

    path = tmp_path / "demo.png"
    assert main(["demo", "--depth", "4", "--width", "16", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width = imread(path).shape[:2]
    assert height > 300 and width > 300
    assert f"plot saved to {path}" in capsys.readouterr().err


def test_plot_draws_every_init_and_histogram_layer(monkeypatch, tmp_path):
    from matplotlib.figure import Figure

    saved = []
    original_savefig = Figure.savefig

    def record(self, *args, **kwargs):
        saved.append(self)
        return original_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    table = _demo.depth_table(5, 8, 0)
    report = {"depth": 5, "width": 8, "seed": 0,
              "forward": table["forward"], "backward": table["backward"]}
    _demo.plot(report, tmp_path / "p.png")
    axes = saved[0].axes
    assert len(axes) == len(_demo.HISTOGRAM_CASES) + 2 * len(_demo.ACTIVATIONS)
    histogram_labels = axes[0].get_legend_handles_labels()[1]
    assert histogram_labels == [f"layer {layer}" for layer in _demo.histogram_layers(5)]
    curve_labels = axes[len(_demo.HISTOGRAM_CASES)].get_legend_handles_labels()[1]
    assert curve_labels == list(_demo.TABLE_INITS)


@pytest.mark.parametrize("name, message", [("demo.unknownformat", "image format"),
                                           ("missing-dir/demo.png", "does not exist")])
def test_unwritable_plot_path_is_refused_before_the_run(monkeypatch, capsys, tmp_path, name,
                                                        message):
    monkeypatch.setattr(_demo, "run_demo", lambda **kw: pytest.fail("the demo ran"))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--plot", str(tmp_path / name)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--plot" in err and message in err
