"""`python -m claims plot`: a PNG of throughput against batch size, and clear errors for bad files."""
import json

import pytest

from claims.cli import main
from claims.plot import read_throughput

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def entry(model, device, mode, batch_size, samples_per_s):
    """One benchmark as pytest-benchmark writes it, with the extra_info the benchmarks record."""
    return {"name": f"test_throughput[{device}-{model}-{mode}-{batch_size}]", "group": f"{model} on {device}",
            "params": {"model": model, "mode": mode, "batch_size": batch_size, "device": device},
            "stats": {"median": batch_size / samples_per_s},
            "extra_info": {"model": model, "mode": mode, "batch_size": batch_size, "device": device,
                           "samples_per_s": samples_per_s, "fraction_of_ceiling": 0.1}}


def write_json(tmp_path, benchmarks, name="bench.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": benchmarks,
                                "datetime": "2026-11-27T06:00:00", "version": "5.2.3"}))
    return path


@pytest.fixture
def bench_json(tmp_path):
    benchmarks = [entry("fc_deep", "cpu", "inference", b, r) for b, r in [(64, 5000.0), (1, 900.0), (8, 2500.0)]]
    benchmarks += [entry("Net", "cpu", "training", 8, 700.0), entry("Net", "cuda", "inference", 8, 9e4)]
    benchmarks.append({"name": "test_fp32_matmul_ceiling[cpu]", "group": "fp32 matmul on cpu", "params": {},
                       "stats": {"median": 0.01}, "extra_info": {"n": 1024, "flop_per_s": 2e11}})
    return write_json(tmp_path, benchmarks)


def test_reads_one_line_per_model_device_and_mode_sorted_by_batch_size(bench_json):
    series = read_throughput(bench_json)
    assert series == {
        "fc_deep": {("cpu", "inference"): [(1, 900.0), (8, 2500.0), (64, 5000.0)]},
        "Net": {("cpu", "training"): [(8, 700.0)], ("cuda", "inference"): [(8, 9e4)]},
    }, "the matmul ceiling is not a model line; points are sorted by batch size"


def test_plot_writes_a_png_with_a_panel_per_model_on_log_log_axes(bench_json, tmp_path, capsys, monkeypatch):
    import matplotlib.figure

    saved = []
    real_savefig = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: (saved.append(fig), real_savefig(fig, *a, **k))[1])
    out = tmp_path / "plots" / "throughput.png"

    assert main(["plot", str(bench_json), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert out.read_bytes()[:8] == PNG_SIGNATURE
    (fig,) = saved
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["fc_deep", "Net"]
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in axes)
    fc_line, = axes[0].get_lines()
    assert list(fc_line.get_xdata()) == [1, 8, 64] and list(fc_line.get_ydata()) == [900.0, 2500.0, 5000.0]
    assert sorted(line.get_label() for line in axes[1].get_lines()) == ["cpu training", "cuda inference"]


def test_default_output_is_the_json_with_png_suffix(bench_json, monkeypatch):
    drawn = []
    monkeypatch.setattr("claims.plot.plot", lambda path, out: drawn.append((path, out)) or out)
    assert main(["plot", str(bench_json)]) == 0
    assert drawn == [(str(bench_json), str(bench_json.with_suffix(".png")))]


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not a JSON file (line 1: Expecting property name enclosed in double quotes)"),
    ('{"machine_info": {}}', "not a pytest-benchmark JSON file: no 'benchmarks' list"),
    ('[1, 2]', "not a pytest-benchmark JSON file: no 'benchmarks' list"),
    ('{"benchmarks": []}', "no model throughput benchmarks in it (write them with python -m pytest "
                           "tests/benchmarks --benchmark-only --benchmark-json FILE)"),
    ('{"benchmarks": [{"name": "b", "extra_info": {"samples_per_s": 5.0, "device": "cpu", "mode": "inference"}}]}',
     "benchmark #1 (b): malformed extra_info (KeyError: 'batch_size')"),
    ('{"benchmarks": [{"name": "b", "extra_info": {"samples_per_s": 0, "device": "cpu", "mode": "inference", '
     '"batch_size": 8, "model": "Net"}}]}',
     "benchmark #1 (b): batch size 8 and 0.0 samples/s cannot go on log axes"),
])
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
    assert err == (f"error: {missing}: no such benchmark file (write one with python -m pytest "
                   f"tests/benchmarks --benchmark-only --benchmark-json FILE)\n")


def test_unwritable_output_is_one_clear_error(bench_json, tmp_path, capsys, monkeypatch):
    def refuse(path, out):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr("claims.plot.plot", refuse)
    assert main(["plot", str(bench_json), "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'out.png'}: cannot write the plot (Permission denied)\n"
