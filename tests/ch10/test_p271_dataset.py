"""Chapter 10, page 271: the custom ``LunaDataset``: ``__len__``, ``__getitem__`` and ``DataLoader``.

Samples come from the scans with axis-aligned directions ("plain", "flipped"): on the rotated scan
the book's xyz2irc misplaces candidates (see test_p263_metaio.py).
"""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from claims.book.luna.dataset import WIDTH_IRC, LunaDataset
from claims.compat import assert_close

LEN_GETITEM = "ch10.dataset-needs-len-and-getitem"
SAMPLE = "ch10.sample-is-a-centred-32x48x48-crop"
LOADER = "ch10.dataset-batches-with-dataloader"


@pytest.fixture
def plain_ds(luna_tree, luna_cache) -> LunaDataset:
    return LunaDataset(luna_tree.root, luna_cache, series_uid=luna_tree.series["plain"].series_uid)


@pytest.mark.claim(LEN_GETITEM)
def test_dataset_defines_len_and_getitem(luna_tree, luna_cache, plain_ds, device, evidence):
    """p.271: LunaDataset subclasses Dataset with its own __len__ (one per candidate on disk: 20, 7 on
    the plain scan) and __getitem__ (a sample per index, its crop ready to move to the device)."""
    whole = LunaDataset(luna_tree.root, luna_cache)
    evidence.record(len_all=len(whole), len_plain=len(plain_ds))
    assert isinstance(whole, Dataset)
    assert "__len__" in vars(LunaDataset) and "__getitem__" in vars(LunaDataset)
    assert len(whole) == 20 and len(plain_ds) == 7
    samples = [plain_ds[i] for i in range(len(plain_ds))]
    assert [s[2] for s in samples] == [luna_tree.series["plain"].series_uid] * 7
    assert samples[-1][0].to(device).device.type == device.type


@pytest.mark.claim(SAMPLE)
@pytest.mark.parametrize("name", ["plain", "flipped"])
def test_sample_is_the_books_tuple_centred_on_the_nodule(luna_tree, luna_cache, name, device, evidence):
    """p.271: a sample is (candidate_t [1, 32, 48, 48] float32, pos_t [not nodule, nodule], series_uid,
    center_irc); for the large nodule away from the border the crop's centre voxel (16, 24, 24) is the
    planted voxel, and the nodule is the bright spot there."""
    series = luna_tree.series[name]
    ds = LunaDataset(luna_tree.root, luna_cache, series_uid=series.series_uid)
    nodule = series.nodules[0]
    k = next(i for i, c in enumerate(ds.candidateInfo_list) if c.center_xyz == nodule.center_xyz)
    candidate_t, pos_t, series_uid, center_irc = ds[k]
    candidate_t, pos_t = candidate_t.to(device), pos_t.to(device)
    evidence.record(shape=list(candidate_t.shape), center_irc=center_irc, centre_hu=candidate_t[0, 16, 24, 24].item())
    assert candidate_t.shape == (1, *WIDTH_IRC) == (1, 32, 48, 48) and candidate_t.dtype == torch.float32
    assert_close(pos_t, torch.tensor([0, 1], device=device), rtol=0, atol=0)
    assert series_uid == series.series_uid and tuple(center_irc.tolist()) == nodule.center_irc
    assert candidate_t[0, 16, 24, 24] > 0, "the planted nodule (~+100 HU) is at the crop's centre"
    ring = candidate_t[0, 16, 24, 24 + 12:].mean()  # 12+ voxels (8.4+ mm) from the centre: lung
    assert ring < -500, f"lung expected away from the nodule, measured {ring:.0f} HU"
    non_nodule = ds[len(ds) - 1]
    assert non_nodule[1].tolist() == [1, 0] and non_nodule[0].shape == (1, 32, 48, 48)


@pytest.mark.claim(SAMPLE)
def test_crop_near_the_border_is_shifted_inside(luna_tree, luna_cache, device, evidence):
    """p.271: the nodule planted at irc (3, 12, 80) is within half a crop of three borders; the crop keeps
    its full size, shifted to start at index 0, row 0 and end at column 96, so the nodule sits at
    (3, 12, 80 - 48) = (3, 12, 32) inside it instead of at the centre."""
    series = luna_tree.series["plain"]
    ds = LunaDataset(luna_tree.root, luna_cache, series_uid=series.series_uid)
    nodule = series.nodules[1]
    k = next(i for i, c in enumerate(ds.candidateInfo_list) if c.center_xyz == nodule.center_xyz)
    candidate_t, _, _, center_irc = ds[k]
    candidate_t = candidate_t.to(device)
    evidence.record(center_irc=center_irc, hu_at_shifted=candidate_t[0, 3, 12, 32].item(),
                    hu_at_centre=candidate_t[0, 16, 24, 24].item())
    assert candidate_t.shape == (1, 32, 48, 48) and tuple(center_irc.tolist()) == (3, 12, 80)
    assert candidate_t[0, 3, 12, 32] > 0 > candidate_t[0, 16, 24, 24], "nodule at the shifted place, not the centre"


@pytest.mark.claim(LOADER)
def test_dataloader_batches_in_two_workers(luna_tree, luna_cache, plain_ds, device, evidence):
    """p.271: DataLoader(batch_size=4, num_workers=2) batches the 7 samples into 4 + 3, collating each
    field of the 4-tuple; the batches equal the samples read one by one."""
    loader = DataLoader(plain_ds, batch_size=4, num_workers=2)
    batches = list(loader)
    shapes = [list(b[0].shape) for b in batches]
    evidence.record(batch_shapes=shapes)
    assert shapes == [[4, 1, 32, 48, 48], [3, 1, 32, 48, 48]]
    candidates = torch.cat([b[0] for b in batches]).to(device)
    labels = torch.cat([b[1] for b in batches]).to(device)
    one_by_one = torch.stack([plain_ds[i][0] for i in range(len(plain_ds))]).to(device)
    assert_close(candidates, one_by_one, rtol=0, atol=0)
    one_by_one_labels = torch.stack([plain_ds[i][1] for i in range(len(plain_ds))]).to(device)
    assert_close(labels, one_by_one_labels, rtol=0, atol=0)
    assert labels.shape == (7, 2) and list(batches[0][2]) == [plain_ds[i][2] for i in range(4)]
    assert batches[0][3].shape == (4, 3)


@pytest.mark.claim(LOADER)
def test_real_dataset_sample(real_luna, tmp_path, device, evidence):
    """p.271: on the real data, the first candidate (the largest nodule) is a [1, 32, 48, 48] sample."""
    from claims.book.luna.cache import RawCandidateCache

    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"))
    batch = next(iter(DataLoader(ds, batch_size=2)))
    evidence.record(samples=len(ds), batch_shape=list(batch[0].shape))
    assert batch[0].to(device).shape == (2, 1, 32, 48, 48) and batch[1].tolist()[0] == [0, 1]
