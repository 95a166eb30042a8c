"""Chapter 8, page 223, and the book's code: its validate() measures NetDropout, NetBatchNorm and NetResDeep in
train mode.

The book's validate() (p1ch8/1_convolution.ipynb In[38], ``claims.book.training.validate``) runs the model
under ``torch.no_grad()`` and never calls ``model.eval()``; its training loop never calls ``model.train()``
or ``model.eval()`` either, and a module is built in train mode. So the accuracies the notebook printed after
training NetDropout (In[48]), NetBatchNorm (In[50]) and NetResDeep (In[57]) were measured with dropout on and
with BatchNorm normalizing each batch by its own statistics.

Here each model is trained with the book's loop on two-class bars images (bold bars, Adam, lr 3e-3, 3 epochs
over 128 images in batches of 16, from the test's seed; NetDropout and NetBatchNorm at n_chans1 = 8, a quarter
of the book's width, NetResDeep at 4 with 4 blocks, In[57]'s at 32 with 100, so each trains in a tenth of a
second: validate() is the same for any width, depth or training), then measured by validate() as the book ran
it, and its validation accuracy again after ``model.eval()``. Seeds 0-49 on the CPU, validation accuracy (128
new images), the same on torch 1.4.0 and 2.14.1 unless a range names its release:

- NetDropout: validate() reported 0.44-0.80 where eval mode gives 0.45-0.84; eval mode was higher in 40 of
  the 50 seeds, by 0.05 on average (-0.04 to 0.16); a second run of the validation set changes 12-54 of its
  128 predictions (dropout draws anew), and 10-41 differ from eval mode's.
- NetBatchNorm: validate() reported 0.72-1.00 where eval mode gives 0.72-1.00; the two differ in 43 of the 50
  seeds on 2.14.1 (44 on 1.4.0), validate() higher in 38 (39), eval mode 0.02 lower on average (-0.086 to 0.070
  on 2.14.1, -0.070 to 0.070 on 1.4.0); batched by 64 or by 128, the same image's train-mode outputs differ by
  0.0046-0.11 at most.
- NetResDeep: validate() reported 0.92-1.00 where eval mode gives 0.46-1.00: the two differ in 43 of the 50
  seeds, eval mode lower in 41, by 0.17 on average (-0.53 to 0.04): its one shared BatchNorm takes in each of
  its 4 applications per batch, so its running statistics fit none of them well; the train-mode outputs
  batched by 64 or 128 differ by 0.0071-0.74.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from claims.book.models import NetBatchNorm, NetDropout, NetResDeep
from claims.book.training import accuracy, training_loop, validate
from claims.compat import assert_close, full_float32
from fixtures.images import bars

CLAIM = "ch08.book-validate-measures-dropout-and-batchnorm-models-in-train-mode"
WIDTH, EPOCHS = 8, 3  # small models trained briefly: validate() is the same whatever the width and the training
BOLD = {"bar_length": 24, "bar_width": 6}  # bold bars, which the models tell apart after 3 epochs
RESDEEP_BLOCKS = 4  # In[57] trained 100 (the default is 10): one ResBlock applied n_blocks times, for any n_blocks
MODELS = {
    "NetDropout": lambda: NetDropout(n_chans1=WIDTH),
    "NetBatchNorm": lambda: NetBatchNorm(n_chans1=WIDTH),
    "NetResDeep": lambda: NetResDeep(n_chans1=WIDTH // 2, n_blocks=RESDEEP_BLOCKS),  # 4 channels, 4 blocks
}
# How many times each model applies each of its BatchNorm2d layers per forward: NetResDeep's one shared block
# n_blocks times (ch08.book-netresdeep-repeats-one-block).
BATCHNORM_CALLS = {"NetBatchNorm": 1, "NetResDeep": RESDEEP_BLOCKS}
BATCH_EFFECT = 1e-3  # in train mode, an image's outputs batched by 64 and by 128 differ by more than this

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def trained(name: str, seed: int, device):
    """The model trained by the book's loop, and the two loaders the book's validate() reads: the training
    batches, and 128 new images in batches of 64 (the book's batch size). Data drawn on the CPU."""
    cpu = torch.Generator().manual_seed(seed)
    imgs, labels = bars(128, cpu, **BOLD)
    val_imgs, val_labels = bars(128, cpu, **BOLD)
    train_loader = list(zip(imgs.split(16), labels.split(16)))
    val_loader = list(zip(val_imgs.split(64), val_labels.split(64)))
    torch.manual_seed(seed)
    model = MODELS[name]().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    with full_float32(deterministic=True):  # CUDA: the same convolution algorithm in every pass
        training_loop(EPOCHS, optimizer, model, nn.CrossEntropyLoss(), train_loader, device=device)
    return model, train_loader, val_loader


def watching(model, run):
    """``run()``'s result, the `training` flags the Dropout2d and BatchNorm2d layers ran with inside it, and
    the model's outputs in the order it made them (on the CPU)."""
    modes, outputs = set(), []
    layers = [m for m in model.modules() if isinstance(m, (nn.Dropout2d, nn.BatchNorm2d))]
    hooks = [layer.register_forward_pre_hook(lambda module, inputs: modes.add(module.training)) for layer in layers]
    hooks.append(model.register_forward_hook(lambda module, inputs, output: outputs.append(output.detach().cpu())))
    try:
        with full_float32(deterministic=True):  # CUDA: the same convolution algorithm in every pass
            return run(), modes, outputs
    finally:
        for hook in hooks:
            hook.remove()


@torch.no_grad()
def in_one_batch(model, imgs, device):
    """The model's outputs for all of ``imgs`` fed as one batch, on the CPU."""
    with full_float32(deterministic=True):
        return model(imgs.to(device)).cpu()


def batches_tracked(model) -> list[int]:
    """How many batches each BatchNorm2d layer has taken into its running statistics."""
    return [int(m.num_batches_tracked) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def measured(name: str, seed: int, device) -> dict:
    """validate() as the book ran it, and the validation accuracy after model.eval(): the accuracies, the
    layers' modes inside validate(), the batches it took into the running statistics, and in each mode the
    validation outputs (batches of 64, as validate() feeds them) against the same 128 images fed again as one
    batch."""
    model, train_loader, val_loader = trained(name, seed, device)
    val_imgs, n_val = torch.cat([x for x, _ in val_loader]), len(val_loader)
    before = batches_tracked(model)
    book, modes, outputs = watching(model, lambda: validate(model, train_loader, val_loader, device))
    taken_in = [after - earlier for after, earlier in zip(batches_tracked(model), before)]
    train_mode = {"validate": torch.cat(outputs[-n_val:]), "again_in_one_batch": in_one_batch(model, val_imgs, device)}
    model.eval()
    after_eval, _, outputs = watching(model, lambda: {"val": accuracy(model, val_loader, device)})  # val only
    eval_mode = {"validate": torch.cat(outputs[-n_val:]), "again_in_one_batch": in_one_batch(model, val_imgs, device)}
    return {
        "book": book,
        "after_eval": after_eval,
        "modes": modes,
        "batches_taken_into_running_stats": taken_in,
        "train_mode": train_mode,
        "eval_mode": eval_mode,
        "n_batches": len(train_loader) + n_val,
    }


def changed_predictions(a: torch.Tensor, b: torch.Tensor) -> int:
    return int((a.argmax(1) != b.argmax(1)).sum())


@pytest.mark.claim(CLAIM)
def test_book_validate_measures_netdropout_with_dropout_on(device, seed, evidence):
    """p.223, the book's code: inside validate() NetDropout's Dropout2d layers are in train mode, so the
    accuracy it reports is one random draw of dropped channels: a second run of the same 128 validation
    images changes some of the predictions, and they are not those of the model in eval mode, which are
    the same every run. (Seeds 0-49, torch 1.4.0 and 2.14.1: 12-54 of 128 changed by a second run, 10-41
    differ from eval mode's.)"""
    run = measured("NetDropout", seed, device)
    first, second = run["train_mode"]["validate"], run["train_mode"]["again_in_one_batch"]  # no BatchNorm here:
    in_eval_mode = run["eval_mode"]["validate"]  # the batching changes nothing, the dropout draws do
    evidence.record(
        validate_as_the_book_ran_it=run["book"],
        validate_after_eval=run["after_eval"],
        changed_by_a_second_run=changed_predictions(first, second),
        differing_from_eval_mode=changed_predictions(first, in_eval_mode),
    )

    assert run["modes"] == {True}, f"expected validate() to run the dropout layers in train mode: {run['modes']}"
    assert changed_predictions(first, second) > 0, "expected dropout to redraw its channels on a second run"
    assert changed_predictions(first, in_eval_mode) > 0, "expected other predictions than eval mode's"
    assert_close(in_eval_mode, run["eval_mode"]["again_in_one_batch"], rtol=1e-5, atol=1e-5)  # no dropout


@pytest.mark.claim(CLAIM)
@pytest.mark.parametrize("name", list(BATCHNORM_CALLS))
def test_book_validate_measures_batchnorm_models_on_batch_statistics(device, seed, name, evidence):
    """p.223, the book's code: inside validate() the BatchNorm layers of NetBatchNorm (In[50]) and of
    NetResDeep (In[57], a BatchNorm in its ResBlock) are in train mode, so each validation batch is
    normalized with its own statistics: an image's output depends on the batch it is in (the 128 validation
    images in two batches of 64 and in one of 128, 0.0046-0.11 apart for NetBatchNorm and 0.0071-0.74 for
    NetResDeep over seeds 0-49; the test asks more than 1e-3), where in eval mode it does not; and
    validate() takes every batch it measures into the running statistics (10 batches: 8 training and 2
    validation; each of NetBatchNorm's BatchNorm layers once per batch, NetResDeep's one BatchNorm 4 times
    per batch, its one block applied n_blocks = 4 times)."""
    run = measured(name, seed, device)
    by_64, by_128 = run["train_mode"]["validate"], run["train_mode"]["again_in_one_batch"]
    batch_effect = (by_64 - by_128).abs().max().item()
    evidence.record(
        validate_as_the_book_ran_it=run["book"],
        validate_after_eval=run["after_eval"],
        train_mode_output_change_with_the_batch=batch_effect,
        differing_from_eval_mode=changed_predictions(by_64, run["eval_mode"]["validate"]),
    )

    assert run["modes"] == {True}, f"expected validate() to run BatchNorm in train mode: {run['modes']}"
    taken_in, expected = run["batches_taken_into_running_stats"], run["n_batches"] * BATCHNORM_CALLS[name]
    assert taken_in and set(taken_in) == {expected}, f"expected each BatchNorm to take in {expected}: {taken_in}"
    assert batch_effect > BATCH_EFFECT, f"expected the outputs to depend on the batch in train mode: {batch_effect}"
    eval_mode = run["eval_mode"]
    assert_close(eval_mode["validate"], eval_mode["again_in_one_batch"], rtol=1e-5, atol=1e-5)  # running statistics


@pytest.mark.sweep
def test_sweep_book_validate_against_eval_mode(device):
    """validate()'s validation accuracy in train mode against eval mode, over 50 seeds, for the three models."""
    ranges = {}
    for name in MODELS:
        runs = [measured(name, seed, device) for seed in range(50)]
        gaps = [r["after_eval"]["val"] - r["book"]["val"] for r in runs]
        train, again = ([r["train_mode"][key] for r in runs] for key in ("validate", "again_in_one_batch"))
        flips = [changed_predictions(t, r["eval_mode"]["validate"]) for t, r in zip(train, runs)]
        repeat = [changed_predictions(t, a) for t, a in zip(train, again)]
        batch = [(t - a).abs().max().item() for t, a in zip(train, again)]
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
    assert all(ranges[name]["batch_dependence"][0] > BATCH_EFFECT for name in BATCHNORM_CALLS), ranges
    # The accuracies: validate()'s below eval mode's for NetDropout in most seeds (40 of 50), NetBatchNorm's and
    # NetResDeep's other than eval mode's in most (43-44 and 43 of 50).
    assert ranges["NetDropout"]["eval_higher"] >= 30, ranges
    assert all(ranges[name]["differ"] >= 30 for name in BATCHNORM_CALLS), ranges
