"""List what the book's companion notebooks printed, and check the inventory covers it.

    python scripts/printed_outputs.py DLWPT_CODE                 # every code cell with an output, and its record
    python scripts/printed_outputs.py DLWPT_CODE --missing       # only the cells no record covers (exit 1 if any)
    python scripts/printed_outputs.py DLWPT_CODE --write-manifest  # claims/registry/printed/notebooks.json

DLWPT_CODE is a checkout of deep-learning-with-pytorch/dlwpt-code. The manifest holds, per notebook, what
each cell that printed something printed (by execution count); the harness test checks the inventory
against it without needing the checkout: every such cell has a record, and every value a record says a
test asserts is text the notebook printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from claims.registry import printed  # noqa: E402

NOTEBOOKS = [
    "p1ch5/1_parameter_estimation.ipynb",
    "p1ch5/2_autograd.ipynb",
    "p1ch5/3_optimizers.ipynb",
    "p1ch6/1_neural_networks.ipynb",
    "p1ch6/2_activation_functions.ipynb",
    "p1ch6/3_nn_module_subclassing.ipynb",
    "p1ch7/1_datasets.ipynb",
    "p1ch7/2_birds_airplanes.ipynb",
    "p1ch7/p1ch6.ipynb",
    "p1ch8/1_convolution.ipynb",
    "p2ch10_explore_data.ipynb",
]
MANIFEST = ROOT / "claims" / "registry" / "printed" / "notebooks.json"


def output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", []))
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data", {})
    if "text/plain" in data:
        return "".join(data["text/plain"])
    return f"<{', '.join(sorted(data))}>"


def cells(checkout: Path):
    for notebook in NOTEBOOKS:
        document = json.loads((checkout / notebook).read_text(encoding="utf-8"))
        for cell in document["cells"]:
            if cell["cell_type"] == "code" and cell.get("outputs"):
                text = "\n".join(output_text(o) for o in cell["outputs"])
                yield notebook, cell["execution_count"], "".join(cell["source"]), text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--missing", action="store_true", help="only the cells no record covers")
    parser.add_argument("--write-manifest", action="store_true", help=f"write {MANIFEST.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    covered = {(o.notebook, o.cell) for o in printed.load()}
    found = list(cells(args.checkout))
    if args.write_manifest:
        manifest = {nb: {str(cell): text for n, cell, _, text in found if n == nb} for nb in NOTEBOOKS}
        MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        print(f"{MANIFEST.relative_to(ROOT)}: {len(found)} cells with outputs in {len(NOTEBOOKS)} notebooks")
        return 0
    missing = 0
    for notebook, cell, source, text in found:
        if args.missing and (notebook, cell) in covered:
            continue
        missing += (notebook, cell) not in covered
        mark = "covered" if (notebook, cell) in covered else "MISSING"
        print(f"== {notebook} In[{cell}] ({mark})\n-- source:\n{source}\n-- printed:\n{text[:1500]}\n")
    print(f"{len(found)} cells with outputs; {missing} not in the inventory", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
