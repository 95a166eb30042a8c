"""Chapter 8, page 223, and the book's code: its validate() measures NetDropout and NetBatchNorm in train mode.

The book's validate() (p1ch8/1_convolution.ipynb In[38], ``claims.book.training.validate``) runs the model
under ``torch.no_grad()`` and never calls ``model.eval()``; its training loop never calls ``model.train()``
or ``model.eval()`` either, and a module is built in train mode. So the accuracies the notebook printed after
training NetDropout (In[48]) and NetBatchNorm (In[50]) were measured with dropout on and with BatchNorm
normalizing each batch by its own statistics.

Here each model is trained with the book's loop on the two-class bars images (Adam, lr 3e-3, 10 epochs over
128 images in batches of 16, from the test's seed; at n_chans1 = 16, half the book's width, so it trains in a
fraction of a second: validate() is the same for any width), then measured by validate() as the book ran it,
and again after ``model.eval()``. 50 seeds on the CPU, validation accuracy (128 new images):

- NetDropout: validate() reported 0.58-0.86 where eval mode gives 0.63-0.92; eval mode was higher in 48 of
  the 50 seeds, by 0.07 on average (-0.04 to 0.17); a second run of the validation set changes 17-49 of its
  128 predictions (dropout draws anew), and 12-32 differ from eval mode's.
- NetBatchNorm: validate() reported 0.63-0.95 where eval mode gives 0.56-0.96; the two differ in 39 of the
  50 seeds, either way (-0.06 to 0.05, eval mode higher in 18); batched by 64 or by 128, the same image's
  train-mode outputs differ by 0.034-0.39 at most.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from claims.book.models import NetBatchNorm, NetDropout
from claims.book.training import training_loop, validate
from claims.compat import assert_close, full_float32
from fixtures.images import bars

CLAIM = "ch08.book-validate-measures-dropout-and-batchnorm-models-in-train-mode"
WIDTH = 16
MODELS = {"NetDropout": NetDropout, "NetBatchNorm": NetBatchNorm}

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def trained(name: str, seed: int, device):
    """The model trained by the book's loop, and the two loaders the book's validate() reads: the training
    batches, and 128 new images in batches of 64 (the book's batch size). Data drawn on the CPU."""
    cpu = torch.Generator().manual_seed(seed)
    imgs, labels = bars(128, cpu)
    val_imgs, val_labels = bars(128, cpu)
    train_loader = list(zip(imgs.split(16), labels.split(16)))
    val_loader = list(zip(val_imgs.split(64), val_labels.split(64)))
    torch.manual_seed(seed)
    model = MODELS[name](n_chans1=WIDTH).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    with full_float32(deterministic=True):  # CUDA: the same convolution algorithm in every pass
        training_loop(10, optimizer, model, nn.CrossEntropyLoss(), train_loader, device=device)
    return model, train_loader, val_loader


def run_watching_modes(model, run):
    """``run()``'s result, and the `training` flags the Dropout2d and BatchNorm2d layers ran with inside it."""
    seen = set()
    layers = [m for m in model.modules() if isinstance(m, (nn.Dropout2d, nn.BatchNorm2d))]
    hooks = [layer.register_forward_pre_hook(lambda module, inputs: seen.add(module.training)) for layer in layers]
    try:
        return run(), seen
    finally:
        for hook in hooks:
            hook.remove()


@torch.no_grad()
def logits(model, imgs, device, batch_size: int):
    """The model's outputs for ``imgs`` fed in batches of ``batch_size``, on the CPU."""
    with full_float32(deterministic=True):
        return torch.cat([model(x.to(device)).cpu() for x in imgs.split(batch_size)])


def batches_tracked(model) -> list[int]:
    """How many batches each BatchNorm2d layer has taken into its running statistics."""
    return [int(m.num_batches_tracked) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def measured(name: str, seed: int, device) -> dict:
    """validate() as the book ran it and after model.eval(), with what the validation saw and did."""
    model, train_loader, val_loader = trained(name, seed, device)
    val_imgs = torch.cat([x for x, _ in val_loader])
    before = batches_tracked(model)
    with full_float32(deterministic=True):
        book, modes = run_watching_modes(model, lambda: validate(model, train_loader, val_loader, device))
    taken_in = [after - earlier for after, earlier in zip(batches_tracked(model), before)]
    train_mode = [logits(model, val_imgs, device, batch_size) for batch_size in (64, 64, 128)]
    model.eval()
    eval_mode = [logits(model, val_imgs, device, batch_size) for batch_size in (64, 128)]
    with full_float32(deterministic=True):
        after_eval = validate(model, train_loader, val_loader, device)
    return {
        "book": book,
        "after_eval": after_eval,
        "modes": modes,
        "batches_taken_into_running_stats": taken_in,
        "train_mode": train_mode,
        "eval_mode": eval_mode,
        "n_batches": len(train_loader) + len(val_loader),
    }


def changed_predictions(a: torch.Tensor, b: torch.Tensor) -> int:
    return int((a.argmax(1) != b.argmax(1)).sum())


@pytest.mark.claim(CLAIM)
def test_book_validate_measures_netdropout_with_dropout_on(device, seed, evidence):
    """p.223, the book's code: inside validate() NetDropout's Dropout2d layers are in train mode, so the
    accuracy it reports is one random draw of dropped channels: a second run of the same 128 validation
    images changes some of the predictions, and they are not those of the model in eval mode, which are
    the same every run. (50 seeds: 17-49 of 128 changed by a second run, 12-32 differ from eval mode's.)"""
    run = measured("NetDropout", seed, device)
    first, second, _ = run["train_mode"]
    evidence.record(
        validate_as_the_book_ran_it=run["book"],
        validate_after_eval=run["after_eval"],
        changed_by_a_second_run=changed_predictions(first, second),
        differing_from_eval_mode=changed_predictions(first, run["eval_mode"][0]),
    )

    assert run["modes"] == {True}, f"expected validate() to run the dropout layers in train mode: {run['modes']}"
    assert changed_predictions(first, second) > 0, "expected dropout to redraw its channels on a second run"
    assert changed_predictions(first, run["eval_mode"][0]) > 0, "expected other predictions than eval mode's"
    assert_close(run["eval_mode"][0], run["eval_mode"][1], rtol=1e-5, atol=1e-5)  # eval mode: no dropout


@pytest.mark.claim(CLAIM)
def test_book_validate_measures_netbatchnorm_on_batch_statistics(device, seed, evidence):
    """p.223, the book's code: inside validate() NetBatchNorm's BatchNorm layers are in train mode, so each
    validation batch is normalized with its own statistics: an image's output depends on the batch it is in
    (the 128 validation images in two batches of 64 and in one of 128 give outputs up to 0.034-0.39 apart
    over 50 seeds; the test asks 1e-3), where in eval mode it does not; and validate() takes every batch it
    measures into the running statistics (10: 8 training batches and 2 validation batches)."""
    run = measured("NetBatchNorm", seed, device)
    by_64, _, by_128 = run["train_mode"]
    evidence.record(
        validate_as_the_book_ran_it=run["book"],
        validate_after_eval=run["after_eval"],
        train_mode_output_change_with_the_batch=(by_64 - by_128).abs().max().item(),
        differing_from_eval_mode=changed_predictions(by_64, run["eval_mode"][0]),
    )

    assert run["modes"] == {True}, f"expected validate() to run BatchNorm in train mode: {run['modes']}"
    taken_in = run["batches_taken_into_running_stats"]
    assert taken_in == [run["n_batches"]] * 2, f"expected each BatchNorm to take in the 10 batches, took {taken_in}"
    assert (by_64 - by_128).abs().max() > 1e-3, "expected the outputs to depend on the batch in train mode"
    assert_close(run["eval_mode"][0], run["eval_mode"][1], rtol=1e-5, atol=1e-5)  # eval mode: running statistics


@pytest.mark.sweep
def test_sweep_book_validate_against_eval_mode(device):
    """validate()'s validation accuracy in train mode against eval mode, over 50 seeds, for both models."""
    ranges = {}
    for name in MODELS:
        runs = [measured(name, seed, device) for seed in range(50)]
        gaps = [r["after_eval"]["val"] - r["book"]["val"] for r in runs]
        flips = [changed_predictions(r["train_mode"][0], r["eval_mode"][0]) for r in runs]
        repeat = [changed_predictions(r["train_mode"][0], r["train_mode"][1]) for r in runs]
        batch = [(r["train_mode"][0] - r["train_mode"][2]).abs().max().item() for r in runs]
        ranges[name] = {
            "book_val": (min(r["book"]["val"] for r in runs), max(r["book"]["val"] for r in runs)),
            "eval_val": (min(r["after_eval"]["val"] for r in runs), max(r["after_eval"]["val"] for r in runs)),
            "eval_minus_book": (min(gaps), sum(gaps) / len(gaps), max(gaps)),
            "eval_higher": sum(g > 0 for g in gaps),
            "differ": sum(g != 0 for g in gaps),
            "flips_vs_eval": (min(flips), max(flips)),
            "flips_second_run": (min(repeat), max(repeat)),
            "batch_dependence": (min(batch), max(batch)),
        }
        assert all(r["modes"] == {True} for r in runs), name
    print(ranges)
    assert ranges["NetDropout"]["flips_second_run"][0] > 0 and ranges["NetDropout"]["flips_vs_eval"][0] > 0, ranges
    assert ranges["NetBatchNorm"]["batch_dependence"][0] > 1e-3, ranges
    # The accuracies: validate()'s below eval mode's for NetDropout in most seeds (48 of 50), NetBatchNorm's
    # off either way (39 of 50 differ).
    assert ranges["NetDropout"]["eval_higher"] >= 40 and ranges["NetBatchNorm"]["differ"] >= 25, ranges
