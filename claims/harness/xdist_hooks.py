"""Under pytest-xdist: what the controller tells its workers (the data sets it checked), and what each worker
tells it back (what it collected and selected: the controller collects nothing itself). Registered only
where xdist is (``config.pluginmanager.hasplugin("xdist")``), as pytest-randomly does, so these hooks are
known; the reports themselves come back through xdist with what ``outcomes.Reports`` attached."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from claims.harness.collection import Collection
from claims.harness.options import DATA_OPTIONS
from claims.harness.outcomes import Outcomes

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

DATA_ROOTS_KEY = "dlwpt_data_roots"  # in workerinput: option dest -> the directory the controller checked
WORKER_KEY = "dlwpt_claims"  # in workeroutput: what the worker collected and selected


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # xdist's own way of telling


def data_roots_from_controller(config: pytest.Config) -> dict[str, Path | None] | None:
    """In a worker, the data sets the controller checked at start-up (a worker does not check them again);
    None in any other process."""
    if not is_worker(config):
        return None
    sent: dict[str, Any] = config.workerinput.get(DATA_ROOTS_KEY, {})  # type: ignore[attr-defined]  # xdist's
    return {dest: Path(sent[dest]) if sent.get(dest) else None for dest in DATA_OPTIONS}


class Controller:
    """In xdist's controller: sends the checked data sets to each worker, gathers what each collected."""

    def __init__(self, data_roots: dict[str, Path | None], collection: Collection, outcomes: Outcomes) -> None:
        self.data_roots = data_roots
        self.collection = collection
        self.outcomes = outcomes

    def pytest_configure_node(self, node: WorkerController) -> None:
        node.workerinput[DATA_ROOTS_KEY] = {k: str(v) if v else None for k, v in self.data_roots.items()}

    def pytest_testnodedown(self, node: WorkerController, error: object) -> None:
        self.outcomes.workers += 1
        sent = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if sent:
            self.collection.merge(sent["collected"], sent["selected"])


class Worker:
    """In an xdist worker: sends the controller what it collected and selected, once collection is done."""

    def __init__(self, config: pytest.Config, collection: Collection) -> None:
        self.config = config
        self.collection = collection

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        collected = self.collection.collected
        selected = {item.nodeid for item in session.items}
        self.config.workeroutput[WORKER_KEY] = {  # type: ignore[attr-defined]  # set by xdist on a worker
            "collected": {nodeid: asdict(c) for nodeid, c in collected.items()},
            "selected": sorted(selected & set(collected)),
        }
