"""``python -m claims plot BENCHMARK_JSON [-o OUT.png]``: throughput against batch size, from a
pytest-benchmark JSON file (``--benchmark-json FILE``, or one saved by ``--benchmark-autosave`` /
``--benchmark-save`` under ``.benchmarks/``).

One panel per model; in each, one line per device and mode (inference, training), samples per second
against batch size on log-log axes. A perfectly batched model would rise with slope 1; where a line
flattens, the device was already busy at the smaller batch.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from claims.errors import DataFileError

HOW_TO_MAKE = "python -m pytest tests/benchmarks --benchmark-only --benchmark-json FILE"
MODES = {"inference": "-", "training": "--"}
MARKERS = {"cpu": "o", "cuda": "s", "mps": "^"}


def read_throughput(path: str | Path) -> dict[str, dict[tuple[str, str], list[tuple[int, float]]]]:
    """``{model: {(device, mode): [(batch_size, samples_per_s), ...]}}`` from a benchmark JSON file.

    Raises ``DataFileError`` naming the file when it is missing, is not JSON, is not a pytest-benchmark
    file, or holds no model throughput benchmarks (the ones in ``tests/benchmarks``).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataFileError(path, f"no such benchmark file (write one with {HOW_TO_MAKE})") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot be read as a benchmark file ({type(exc).__name__})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"not a JSON file (line {exc.lineno}: {exc.msg})") from None
    benchmarks = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(benchmarks, list):
        raise DataFileError(path, "not a pytest-benchmark JSON file: no 'benchmarks' list")
    series: dict[str, dict[tuple[str, str], list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for n, bench in enumerate(benchmarks):
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        if not isinstance(info, dict) or "samples_per_s" not in info:
            continue  # another benchmark (the matmul ceiling, someone else's)
        try:
            key = (str(info["device"]), str(info["mode"]))
            point = (int(info["batch_size"]), float(info["samples_per_s"]))
            model = str(info["model"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(path, f"benchmark #{n + 1} ({bench.get('name', '?')}): malformed extra_info "
                                      f"({type(exc).__name__}: {exc})") from None
        if point[0] < 1 or not point[1] > 0:
            raise DataFileError(path, f"benchmark #{n + 1} ({bench.get('name', '?')}): batch size {point[0]} "
                                      f"and {point[1]} samples/s cannot go on log axes")
        series[model][key].append(point)
    if not series:
        raise DataFileError(path, f"no model throughput benchmarks in it (write them with {HOW_TO_MAKE})")
    return {model: {key: sorted(points) for key, points in lines.items()} for model, lines in series.items()}


def plot(path: str | Path, out: str | Path) -> Path:
    """Draw the throughput of every model in ``path`` into the PNG ``out``; returns ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    series = read_throughput(path)
    models = sorted(series, key=lambda m: (m != "fc_deep", m))
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.2), squeeze=False)
    for ax, model in zip(axes[0], models):
        for (device, mode), points in sorted(series[model].items()):
            sizes, rates = zip(*points)
            ax.plot(sizes, rates, MODES.get(mode, ":"), marker=MARKERS.get(device, "x"), label=f"{device} {mode}")
        ax.set_xscale("log", base=2)
        sizes = sorted({size for points in series[model].values() for size, _ in points})
        ax.set_xticks(sizes, [str(size) for size in sizes])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_yscale("log")
        ax.set_title(model)
        ax.set_xlabel("batch size")
        ax.set_ylabel("samples per second")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"Throughput against batch size ({Path(path).name})")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out
