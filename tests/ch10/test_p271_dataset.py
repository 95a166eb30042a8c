"""Chapter 10, page 271: the custom ``LunaDataset``: ``__len__``, ``__getitem__`` and ``DataLoader``.

Samples come from the scans with axis-aligned directions ("plain", "flipped"): on the rotated scan
the book's xyz2irc misplaces candidates (see test_p263_xyz2irc.py).
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.candidates import read_rows
from claims.book.luna.dataset import WIDTH_IRC, LunaDataset
from claims.book.luna.layout import CANDIDATE_COLUMNS
from claims.compat import assert_close

LEN_GETITEM = "ch10.dataset-needs-len-and-getitem"
SAMPLE = "ch10.sample-is-a-centred-32x48x48-crop"
LOADER = "ch10.dataset-batches-with-dataloader"
REAL = "ch10.luna16-dataset-gives-the-books-samples"


@pytest.fixture
def plain_ds(luna_tree, luna_cache) -> LunaDataset:
    return LunaDataset(luna_tree.root, luna_cache, series_uid=luna_tree.series["plain"].series_uid)


class OnlyGetitem(Dataset):
    def __getitem__(self, ndx):
        return torch.tensor([ndx, ndx * ndx])


class OnlyLen(Dataset):
    def __len__(self):
        return 3


class Both(OnlyGetitem):
    def __len__(self):
        return 3


@pytest.mark.claim(LEN_GETITEM)
def test_dataloader_needs_both_methods(evidence):
    """p.271: DataLoader cannot go through a Dataset without __len__ (its sampler asks for the length: TypeError)
    or without __getitem__ (Dataset's own raises NotImplementedError); with both it batches the samples."""
    with pytest.raises(TypeError):
        list(DataLoader(OnlyGetitem(), batch_size=2))
    with pytest.raises(NotImplementedError):
        list(DataLoader(OnlyLen(), batch_size=2))
    batches = [b.tolist() for b in DataLoader(Both(), batch_size=2)]
    evidence.record(batches_with_both=batches)
    assert batches == [[[0, 0], [1, 1]], [[2, 4]]], f"3 samples in batches of 2: {batches}"


@pytest.mark.claim(LEN_GETITEM)
def test_luna_dataset_has_a_sample_per_candidate(luna_tree, luna_cache, plain_ds, device, evidence):
    """p.271: LunaDataset's __len__ is its number of candidates (20 on disk, 7 on the plain scan) and
    __getitem__(i) gives candidate i's sample: its series, its label, its own centre voxel."""
    whole = LunaDataset(luna_tree.root, luna_cache)
    samples = [plain_ds[i] for i in range(len(plain_ds))]
    centres = [tuple(s[3].tolist()) for s in samples]
    evidence.record(len_all=len(whole), len_plain=len(plain_ds), centres=centres)
    assert len(whole) == 20 and len(plain_ds) == len(plain_ds.candidateInfo_list) == 7, (len(whole), len(plain_ds))
    assert [s[2] for s in samples] == [luna_tree.series["plain"].series_uid] * 7
    labels = [bool(s[1][1]) for s in samples]
    assert labels == [c.isNodule_bool for c in plain_ds.candidateInfo_list], f"labels by index: {labels}"
    assert len(set(centres)) == 7, f"7 candidates, 7 centre voxels expected: {centres}"
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
    evidence.record(
        shape=list(candidate_t.shape), center_irc=center_irc.tolist(), centre_hu=candidate_t[0, 16, 24, 24].item()
    )
    assert candidate_t.shape == (1, *WIDTH_IRC) == (1, 32, 48, 48) and candidate_t.dtype == torch.float32
    assert_close(pos_t, torch.tensor([0, 1], device=device), rtol=0, atol=0)
    assert series_uid == series.series_uid and tuple(center_irc.tolist()) == nodule.center_irc
    assert candidate_t[0, 16, 24, 24] > 0, "the planted nodule (~+100 HU) is at the crop's centre"
    ring = candidate_t[0, 16, 24, 24 + 12 :].mean()  # 12+ voxels (8.4+ mm) from the centre: lung
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
    assert candidate_t.shape == (1, 32, 48, 48), f"the crop near the border is {list(candidate_t.shape)}"
    evidence.record(
        center_irc=center_irc.tolist(),
        hu_at_shifted=candidate_t[0, 3, 12, 32].item(),
        hu_at_centre=candidate_t[0, 16, 24, 24].item(),
    )
    assert tuple(center_irc.tolist()) == (3, 12, 80)
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


@pytest.mark.claim(REAL)
def test_luna16_dataset_samples(real_luna, tmp_path, device, evidence):
    """p.271: on the real data, LunaDataset has one sample per candidates.csv row of a series on disk; the first
    (the largest nodule) is a [1, 32, 48, 48] float32 crop labelled [0, 1]; DataLoader batches them."""
    on_disk = {p.stem for p in real_luna.glob("subset*/*.mhd")}
    rows = sum(row[0] in on_disk for row in read_rows(real_luna / "candidates.csv", CANDIDATE_COLUMNS))
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"))
    candidate_t, pos_t, series_uid, center_irc = ds[0]
    batch = next(iter(DataLoader(ds, batch_size=2)))
    evidence.record(
        samples=len(ds),
        rows_on_disk=rows,
        first_diameter_mm=ds.candidateInfo_list[0].diameter_mm,
        batch_shape=list(batch[0].shape),
    )
    assert len(ds) == rows, f"{rows} candidates of series on disk, LunaDataset has {len(ds)}"
    assert ds.candidateInfo_list[0].diameter_mm == max(c.diameter_mm for c in ds.candidateInfo_list)
    candidate_t, pos_t = candidate_t.to(device), pos_t.to(device)
    assert candidate_t.shape == (1, 32, 48, 48) and candidate_t.dtype == torch.float32, candidate_t.shape
    assert pos_t.tolist() == [0, 1], f"the largest nodule's label: {pos_t.tolist()}"
    assert batch[0].shape == (2, 1, 32, 48, 48) and batch[1].tolist()[0] == [0, 1]
