"""Chapter 8, page 223: model.train() and model.eval()."""

import pytest
import torch

from claims.book.models import Net, NetBatchNorm, NetDropout, NetRes, NetResDeep, NetWidth
from claims.compat import full_float32

MODELS = {
    "Net": Net,
    "NetWidth": NetWidth,
    "NetRes": NetRes,
    "NetDropout": NetDropout,
    "NetBatchNorm": NetBatchNorm,
    "NetResDeep": lambda: NetResDeep(n_chans1=8, n_blocks=3),
}
CHANGED_BY_MODE = {"NetDropout", "NetBatchNorm", "NetResDeep"}  # the ones holding Dropout or BatchNorm


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.mark.claim("ch08.train-and-eval-set-every-submodule")
@pytest.mark.parametrize("name", MODELS)
def test_train_and_eval_set_training_on_every_submodule(name, evidence):
    """p.223: model.eval() sets `training = False` on the model and every submodule (the BatchNorm inside
    NetResDeep's ResBlocks too), model.train() sets it back; both return the model itself. (Flags, on the
    host: no device.)"""
    model = MODELS[name]()
    modules = list(model.modules())
    evidence.record(n_modules=len(modules))
    assert model.eval() is model
    assert not any(m.training for m in modules), f"still training after eval(): {[m for m in modules if m.training]}"
    assert model.train() is model
    assert all(m.training for m in modules), f"not training after train(): {[m for m in modules if not m.training]}"
    model.train(False)
    assert not any(m.training for m in modules), "train(False) is eval()"


@pytest.mark.claim("ch08.train-and-eval-change-only-dropout-and-batchnorm-models")
def test_mode_changes_the_output_only_of_dropout_and_batchnorm_models(device, seed, evidence):
    """p.223: on the same batch, train and eval mode give different outputs for NetDropout (dropout is
    on in train mode), NetBatchNorm and NetResDeep (batch statistics vs fresh running statistics), and
    bit-for-bit the same outputs for Net, NetWidth and NetRes, which hold neither. (The gaps measured are
    0.1-0.3: a dropped channel, or a batch's statistics against fresh running ones, not rounding.)"""
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed)).to(device)
    gaps = {}
    for name, build in MODELS.items():
        model = build().to(device)
        with torch.no_grad(), full_float32(deterministic=True):  # CUDA: one algorithm for both passes
            gaps[name] = (model.train()(x) - model.eval()(x)).abs().max().item()
    evidence.record(max_output_gap=gaps)

    changed = {name for name, gap in gaps.items() if gap > 1e-3}
    unchanged = {name for name, gap in gaps.items() if gap == 0}
    assert changed == CHANGED_BY_MODE, f"expected only {sorted(CHANGED_BY_MODE)} to change, gaps {gaps}"
    assert unchanged == set(MODELS) - CHANGED_BY_MODE, f"expected the others bit-for-bit equal, gaps {gaps}"
