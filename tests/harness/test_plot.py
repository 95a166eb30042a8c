"""`python -m claims plot`: throughput against batch size (PNG, SVG or PDF by the output's extension), the
statistic and the ceiling on it, and clear errors for bad files."""

import json

import pytest

from claims.cli import main
from claims.cli.plot import read_benchmarks, read_throughput

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


FLOPS = {"fc_deep": 7.5e6, "Net": 1.2e6}


def entry(model, device, mode, batch_size, samples_per_s, fraction=0.1):
    """One benchmark as pytest-benchmark writes it, with the extra_info the benchmarks record."""
    median = batch_size / samples_per_s
    return {
        "name": f"test_throughput[{device}-{model}-{mode}-{batch_size}]",
        "group": f"{model} on {device}",
        "params": {"model": model, "mode": mode, "batch_size": batch_size, "device": device},
        "options": {"timer": "time.thread_time"},
        "stats": {"median": median, "q1": median * 0.9, "q3": median * 1.2, "rounds": 20},
        "extra_info": {
            "model": model,
            "mode": mode,
            "batch_size": batch_size,
            "device": device,
            "samples_per_s": samples_per_s,
            "fraction_of_ceiling": fraction,
            "cpu_threads": 1,
            "flop_per_step": FLOPS[model] * batch_size,
        },
    }


def write_json(tmp_path, benchmarks, name="bench.json", ceilings=None):
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {
                "machine_info": {"torch": "2.14.1"},
                "commit_info": {},
                "benchmarks": benchmarks,
                "datetime": "2026-11-27T06:00:00",
                "version": "5.2.3",
                "dlwpt_matmul_ceiling": ceilings or {"cpu": {"flop_per_s": 1.5e11}},
            }
        )
    )
    return path


@pytest.fixture
def bench_json(tmp_path):
    benchmarks = [entry("fc_deep", "cpu", "inference", b, r) for b, r in [(64, 5000.0), (1, 900.0), (8, 2500.0)]]
    benchmarks += [entry("Net", "cpu", "training", 8, 700.0), entry("Net", "cuda", "inference", 8, 9e4)]
    return write_json(tmp_path, benchmarks)


def test_reads_one_line_per_model_device_and_mode_sorted_by_batch_size(bench_json):
    series = read_throughput(bench_json)
    assert series == {
        "fc_deep": {("cpu", "inference"): [(1, 900.0), (8, 2500.0), (64, 5000.0)]},
        "Net": {("cpu", "training"): [(8, 700.0)], ("cuda", "inference"): [(8, 9e4)]},
    }, "points are sorted by batch size"
    found = read_benchmarks(bench_json)
    assert found.ceilings == {"cpu": 1.5e11}
    assert found.flop_per_sample[("fc_deep", "inference")] == pytest.approx(7.5e6)
    assert found.context["timer"] == "time.thread_time" and found.context["threads"] == [1]


def test_plot_writes_a_png_with_a_panel_per_model_on_log_log_axes(bench_json, tmp_path, capsys, monkeypatch):
    import matplotlib.figure

    saved = []
    real_savefig = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(
        matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: (saved.append(fig), real_savefig(fig, *a, **k))[1]
    )
    out = tmp_path / "plots" / "throughput.png"

    assert main(["plot", str(bench_json), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    (fig,) = saved
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["fc_deep", "Net"]
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in axes)
    assert axes[0].get_ylabel() == "throughput (samples per second)"
    fc_line, ceiling = axes[0].get_lines()[0], axes[0].get_lines()[-1]
    assert list(fc_line.get_xdata()) == [1, 8, 64] and list(fc_line.get_ydata()) == [900.0, 2500.0, 5000.0]
    assert ceiling.get_label() == "cpu inference: fp32 matmul ceiling"
    assert ceiling.get_ydata()[0] == pytest.approx(1.5e11 / 7.5e6)
    labels = [text.get_text() for text in axes[1].get_legend().get_texts()]
    assert labels == ["cpu training: fp32 matmul ceiling", "cpu training", "cuda inference"], "no cuda ceiling known"
    title = fig._suptitle.get_text()
    assert "median of the rounds, bars the interquartile range" in title
    assert "torch 2.14.1; timer time.thread_time; CPU threads 1; 20-20 rounds" in title


@pytest.mark.parametrize("suffix, signature", [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_the_extension_picks_the_format(bench_json, tmp_path, suffix, signature):
    out = tmp_path / f"throughput{suffix}"
    assert main(["plot", str(bench_json), "-o", str(out)]) == 0
    assert out.read_bytes()[: len(signature)] == signature


def test_an_unknown_extension_is_one_clear_error(bench_json, tmp_path, capsys):
    assert main(["plot", str(bench_json), "-o", str(tmp_path / "t.jpeg")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path / 't.jpeg'}: cannot tell the format from '.jpeg': use one of .png, .svg, .pdf"
    )


def test_points_that_cannot_be_drawn_are_reported_not_dropped(tmp_path, capsys):
    benchmarks = [
        entry("Net", "cpu", "inference", 1, 500.0),
        entry("Net", "cpu", "inference", 8, float("inf")),
        entry("Net", "cpu", "inference", 64, 4000.0, fraction=1.46),
    ]
    path = write_json(tmp_path, benchmarks)
    assert main(["plot", str(path), "-o", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "warning: test_throughput[cpu-Net-inference-8]: inf samples/s cannot be drawn: left out"
    assert out[1].startswith(
        "warning: test_throughput[cpu-Net-inference-64]: 1.46 of the matmul ceiling is a measurement error"
    )


def test_default_output_is_the_json_with_png_suffix(bench_json, monkeypatch):
    drawn = []
    monkeypatch.setattr("claims.cli.plot.plot", lambda path, out: drawn.append((path, out)) or out)
    assert main(["plot", str(bench_json)]) == 0
    assert drawn == [(str(bench_json), str(bench_json.with_suffix(".png")))]


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{not json", "not a JSON file (line 1: Expecting property name enclosed in double quotes)"),
        ('{"machine_info": {}}', "not a pytest-benchmark JSON file: no 'benchmarks' list"),
        ("[1, 2]", "not a pytest-benchmark JSON file: no 'benchmarks' list"),
        (
            '{"benchmarks": []}',
            "no model throughput benchmarks in it (write them with python -m pytest "
            "tests/benchmarks --benchmark-only --benchmark-json FILE)",
        ),
        (
            '{"benchmarks": [{"name": "b", "extra_info": {"samples_per_s": 5.0, "device": "cpu", '
            '"mode": "inference"}}]}',
            "benchmark #1 (b): malformed extra_info (KeyError: 'model')",
        ),
        (
            '{"benchmarks": [{"name": "b", "extra_info": {"samples_per_s": 0, "device": "cpu", "mode": "inference", '
            '"batch_size": 8, "model": "Net"}}]}',
            "no drawable throughput benchmark in it (b: 0.0 samples/s cannot be drawn: left out)",
        ),
        (
            '{"benchmarks": [{"name": "b", "extra_info": {"samples_per_s": 5, "device": "cpu", "mode": "inference", '
            '"batch_size": 0, "model": "Net"}}]}',
            "benchmark #1 (b): batch size 0 cannot go on log axes",
        ),
    ],
)
def test_malformed_file_is_one_clear_error(tmp_path, capsys, content, problem):
    path = tmp_path / "bench.json"
    path.write_text(content)
    assert main(["plot", str(path), "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {path}: {problem}"
    assert not (tmp_path / "out.png").exists()


def test_missing_file_is_one_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert main(["plot", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"error: {missing}: no such benchmark file (write one with python -m pytest "
        f"tests/benchmarks --benchmark-only --benchmark-json FILE)\n"
    )


def test_unwritable_output_is_one_clear_error(bench_json, tmp_path, capsys, monkeypatch):
    def refuse(path, out):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr("claims.cli.plot.plot", refuse)
    assert main(["plot", str(bench_json), "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'out.png'}: cannot write the plot (Permission denied)\n"
