"""Chapter 10, page 271: the custom ``LunaDataset``: ``__len__``, ``__getitem__`` and ``DataLoader``.

Samples come from the scans with axis-aligned directions ("plain", "flipped"): on the rotated scan
the book's xyz2irc misplaces candidates (see test_p263_xyz2irc.py). A sample is made on the host (SimpleITK,
numpy, diskcache, then ``torch.from_numpy``), and DataLoader batches on the host: no test here takes ``device``.
The real LUNA16 samples are checked with ``--luna-root`` against what the book's notebook printed
(p2ch10_explore_data.ipynb, In[7] to In[11]).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, SequentialSampler

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.candidates import getCandidateInfoList, read_rows
from claims.book.luna.dataset import WIDTH_IRC, LunaDataset
from claims.book.luna.layout import CANDIDATE_COLUMNS
from claims.compat import assert_close

LEN_GETITEM = "ch10.dataset-needs-len-and-getitem"
SAMPLE = "ch10.sample-is-a-centred-32x48x48-crop"
LOADER = "ch10.dataset-batches-with-dataloader"
REAL = "ch10.luna16-dataset-gives-the-books-samples"

UID = "1.3.6.1.4.1.14519.5.2.1.6279.6001."  # every LUNA16 series uid starts so
# What p2ch10_explore_data.ipynb printed with all ten subsets on disk:
BOOK_SAMPLES = 551065  # In[7] and In[11]: "<LunaDataset object>: 551065 training samples"
BOOK_TWELFTH_NODULE = (  # In[7]: findPositiveSamples() prints the dataset's nodules; In[8] shows this one's scan
    "11 CandidateInfoTuple(isNodule_bool=True, diameter_mm=24.78201705, "
    "series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.183982839679953938397312236359', "
    "center_xyz=(-44.69, 69.79, -149.72))"
)
BOOK_SCANS = {  # In[8] to In[10]: LunaDataset(series_uid=...)'s log line, then showCandidate's print
    "183982839679953938397312236359": ("602 training samples", "0 False [0, 1, 2, 3, 4, 5, 6]"),
    "124154461048929153767743874565": ("1061 training samples", "0 False [0]"),
    "126264578931778258890371755354": ("605 training samples", "0 False [0]"),
}
BOOK_FIRST_SAMPLE_SERIES = "287966244644280690737019247886"  # In[11]: LunaDataset()[0], the largest nodule
BOOK_FIRST_SAMPLE = """\
(tensor([[[[-732., -810., -863.,  ..., -848., -865., -890.],
           [-767., -826., -855.,  ..., -908., -896., -879.],
           [-807., -859., -848.,  ..., -898., -903., -897.],
           ...,
           [-874., -869., -839.,  ..., -159., -121., -104.],
           [-923., -930., -911.,  ..., -115., -104., -117.],
           [-898., -898., -901.,  ...,  -89.,  -93., -129.]],

          [[-776., -779., -860.,  ..., -852., -875., -874.],
           [-839., -834., -889.,  ..., -875., -894., -898.],
           [-861., -857., -882.,  ..., -838., -865., -889.],
           ...,
           [-862., -932., -917.,  ..., -111.,  -94., -101.],
           [-896., -918., -898.,  ...,  -16.,    1.,  -41.],
           [-875., -894., -881.,  ...,  -55.,  -47.,  -83.]],

          [[-854., -898., -884.,  ..., -886., -878., -857.],
           [-856., -876., -865.,  ..., -869., -880., -884.],
           [-841., -859., -881.,  ..., -857., -844., -832.],
           ...,
           [-744., -880., -873.,  ...,  -95.,  -55.,  -40.],
           [-858., -895., -870.,  ...,  -57.,    4.,    4.],
           [-892., -897., -888.,  ...,  -54.,  -23.,  -22.]],

          ...,

          [[-901., -885., -877.,  ...,  -11.,    5.,   20.],
           [-909., -883., -881.,  ...,  -14.,   -3.,   29.],
           [-925., -911., -895.,  ...,  -35.,   -1.,   31.],
           ...,
           [ 373.,  436.,  473.,  ...,   17.,   29.,   26.],
           [ 413.,  439.,  458.,  ...,  -39.,  -20.,  -11.],
           [ 334.,  296.,  302.,  ...,    7.,   20.,   36.]],

          [[-911., -909., -894.,  ...,  -16.,  -16.,   11.],
           [-935., -920., -903.,  ...,   12.,    6.,   20.],
           [-936., -919., -886.,  ...,    6.,   26.,   33.],
           ...,
           [   0.,   37.,   49.,  ...,   26.,   41.,   32.],
           [  60.,   36.,   51.,  ...,   -4.,   -6.,   -9.],
           [ 213.,  153.,  114.,  ...,  -31.,  -12.,    1.]],

          [[-949., -950., -956.,  ...,   11.,   12.,   23.],
           [-948., -950., -941.,  ...,   -6.,   -6.,   16.],
           [-924., -923., -904.,  ...,  -40.,  -47.,   -9.],
           ...,
           [ -77.,  -85.,  -98.,  ...,   48.,   72.,   73.],
           [ -81., -112., -106.,  ...,   50.,   72.,   85.],
           [ -55.,  -47.,  -56.,  ...,   86.,   96.,   96.]]]]),
 tensor([0, 1]),
 '1.3.6.1.4.1.14519.5.2.1.6279.6001.287966244644280690737019247886',
 tensor([ 91, 360, 341]))
"""  # slices 0, 1, 2, 29, 30, 31 of the crop; rows and columns 0, 1, 2, 45, 46, 47 of each


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
@pytest.mark.parametrize("shuffle", [False, True])
def test_dataloader_needs_both_methods(shuffle, evidence):
    """p.271: DataLoader's default sampler, in order or shuffled, cannot go through a Dataset without __len__ (it
    asks for the length: TypeError) or without __getitem__ (Dataset's own raises NotImplementedError); with both
    it batches every sample. Only a sampler that knows the indices itself does without __len__."""
    with pytest.raises(TypeError):
        list(DataLoader(OnlyGetitem(), batch_size=2, shuffle=shuffle))
    with pytest.raises(NotImplementedError):
        list(DataLoader(OnlyLen(), batch_size=2, shuffle=shuffle))
    batches = [b.tolist() for b in DataLoader(Both(), batch_size=2, shuffle=shuffle)]
    own_indices = [b.tolist() for b in DataLoader(OnlyGetitem(), batch_size=2, sampler=SequentialSampler(range(3)))]
    evidence.record(batches_with_both=batches, without_len_given_the_indices=own_indices)
    assert sorted(row for batch in batches for row in batch) == [[0, 0], [1, 1], [2, 4]], f"3 samples: {batches}"
    assert [len(batch) for batch in batches] == [2, 1], f"3 samples in batches of 2: {batches}"
    assert own_indices == [[[0, 0], [1, 1]], [[2, 4]]]


@pytest.mark.claim(LEN_GETITEM)
def test_luna_dataset_has_a_sample_per_candidate(luna_tree, luna_cache, plain_ds, evidence):
    """p.271: LunaDataset's __len__ is its number of candidates (22 on disk, 7 on the plain scan) and
    __getitem__(i) gives candidate i's sample: its series, its label, its own centre voxel."""
    whole = LunaDataset(luna_tree.root, luna_cache)
    samples = [plain_ds[i] for i in range(len(plain_ds))]
    centres = [tuple(s[3].tolist()) for s in samples]
    evidence.record(len_all=len(whole), len_plain=len(plain_ds), centres=centres)
    assert len(whole) == 22 and len(plain_ds) == len(plain_ds.candidateInfo_list) == 7, (len(whole), len(plain_ds))
    assert [s[2] for s in samples] == [luna_tree.series["plain"].series_uid] * 7
    labels = [bool(s[1][1]) for s in samples]
    assert labels == [c.isNodule_bool for c in plain_ds.candidateInfo_list], f"labels by index: {labels}"
    assert len(set(centres)) == 7, f"7 candidates, 7 centre voxels expected: {centres}"


@pytest.mark.claim(SAMPLE)
@pytest.mark.parametrize("name", ["plain", "flipped"])
def test_sample_is_the_books_tuple_centred_on_the_nodule(luna_tree, luna_cache, name, evidence):
    """p.271: a sample is (candidate_t [1, 32, 48, 48] float32, pos_t [not nodule, nodule], series_uid,
    center_irc); for the large nodule away from the border the crop's centre voxel (16, 24, 24) is the
    planted voxel, and the nodule is the bright spot there."""
    series = luna_tree.series[name]
    ds = LunaDataset(luna_tree.root, luna_cache, series_uid=series.series_uid)
    nodule = series.nodules[0]
    k = next(i for i, c in enumerate(ds.candidateInfo_list) if c.center_xyz == nodule.center_xyz)
    candidate_t, pos_t, series_uid, center_irc = ds[k]
    evidence.record(
        shape=list(candidate_t.shape), center_irc=center_irc.tolist(), centre_hu=candidate_t[0, 16, 24, 24].item()
    )
    assert candidate_t.shape == (1, *WIDTH_IRC) == (1, 32, 48, 48) and candidate_t.dtype == torch.float32
    assert_close(pos_t, torch.tensor([0, 1]), rtol=0, atol=0)
    assert series_uid == series.series_uid and tuple(center_irc.tolist()) == nodule.center_irc
    assert candidate_t[0, 16, 24, 24] > 0, "the planted nodule (~+100 HU) is at the crop's centre"
    ring = candidate_t[0, 16, 24, 24 + 12 :].mean()  # 12+ voxels (8.4+ mm) from the centre: lung
    assert ring < -500, f"lung expected away from the nodule, measured {ring:.0f} HU"
    non_nodule = ds[len(ds) - 1]
    assert non_nodule[1].tolist() == [1, 0] and non_nodule[0].shape == (1, 32, 48, 48)


@pytest.mark.claim(SAMPLE)
def test_crop_near_the_border_is_shifted_inside(luna_tree, luna_cache, evidence):
    """p.271: the nodule planted at irc (3, 12, 80) is within half a crop of three borders; the crop keeps
    its full size, shifted to start at index 0, row 0 and end at column 96, so the nodule sits at
    (3, 12, 80 - 48) = (3, 12, 32) inside it instead of at the centre."""
    series = luna_tree.series["plain"]
    ds = LunaDataset(luna_tree.root, luna_cache, series_uid=series.series_uid)
    nodule = series.nodules[1]
    k = next(i for i, c in enumerate(ds.candidateInfo_list) if c.center_xyz == nodule.center_xyz)
    candidate_t, _, _, center_irc = ds[k]
    assert candidate_t.shape == (1, 32, 48, 48), f"the crop near the border is {list(candidate_t.shape)}"
    evidence.record(
        center_irc=center_irc.tolist(),
        hu_at_shifted=candidate_t[0, 3, 12, 32].item(),
        hu_at_centre=candidate_t[0, 16, 24, 24].item(),
    )
    assert tuple(center_irc.tolist()) == (3, 12, 80)
    assert candidate_t[0, 3, 12, 32] > 0 > candidate_t[0, 16, 24, 24], "nodule at the shifted place, not the centre"


@pytest.mark.claim(LOADER)
def test_dataloader_batches_in_two_workers(plain_ds, evidence):
    """p.271: DataLoader(batch_size=4, num_workers=2) batches the 7 samples into 4 + 3, collating each
    field of the 4-tuple; the batches equal the samples read one by one."""
    batches = list(DataLoader(plain_ds, batch_size=4, num_workers=2))
    shapes = [list(b[0].shape) for b in batches]
    evidence.record(batch_shapes=shapes)
    assert shapes == [[4, 1, 32, 48, 48], [3, 1, 32, 48, 48]]
    one_by_one = [plain_ds[i] for i in range(len(plain_ds))]
    assert_close(torch.cat([b[0] for b in batches]), torch.stack([s[0] for s in one_by_one]), rtol=0, atol=0)
    assert_close(torch.cat([b[1] for b in batches]), torch.stack([s[1] for s in one_by_one]), rtol=0, atol=0)
    assert list(batches[0][2]) == [s[2] for s in one_by_one[:4]] and batches[0][3].shape == (4, 3)


def scan_on_disk_or_skip(root, series_uid: str) -> None:
    if not any(root.glob(f"subset*/{series_uid}.mhd")):
        pytest.skip(f"the book's scan {series_uid} is in a subset that is not on disk")


def printed_numbers(text: str) -> list[float]:
    """The numbers of a printed tensor's rows, in order (the rows' own numbers only: not the "..." lines)."""
    return [float(v) for line in text.splitlines() if "[" in line for v in re.findall(r"-?\d+\.(?!\d)", line)]


@pytest.mark.claim(REAL)
def test_luna16_dataset_samples(real_luna, tmp_path, evidence):
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
    assert candidate_t.shape == (1, 32, 48, 48) and candidate_t.dtype == torch.float32, candidate_t.shape
    assert pos_t.tolist() == [0, 1], f"the largest nodule's label: {pos_t.tolist()}"
    assert batch[0].shape == (2, 1, 32, 48, 48) and batch[1].tolist()[0] == [0, 1]


@pytest.mark.claim(REAL)
def test_luna16_dataset_has_the_books_551065_samples(real_luna, tmp_path, evidence):
    """p.271, as the book's notebook printed it (In[7]): with all ten subsets on disk LunaDataset() has 551,065
    samples, and its twelfth nodule, whose scan In[8] shows, is the book's."""
    every_series = {row[0] for row in read_rows(real_luna / "candidates.csv", CANDIDATE_COLUMNS)}
    missing = every_series - {p.stem for p in real_luna.glob("subset*/*.mhd")}
    if missing:
        pytest.skip(f"the book's count is with all ten subsets: {len(missing)} of {len(every_series)} scans missing")
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"))
    nodules = [c for c in ds.candidateInfo_list if c.isNodule_bool]
    evidence.record(samples=len(ds), nodules=len(nodules))
    assert len(ds) == BOOK_SAMPLES, f"{len(ds)} samples, the book printed {BOOK_SAMPLES}"
    assert f"11 {nodules[11]}" == BOOK_TWELFTH_NODULE, nodules[11]


@pytest.mark.claim(REAL)
@pytest.mark.parametrize("series", sorted(BOOK_SCANS))
def test_luna16_scans_the_book_showed_have_its_samples(real_luna, tmp_path, series, evidence):
    """p.271, In[8] to In[10]: LunaDataset(series_uid=...) holds that scan's candidates (602, 1,061, 605), its
    nodules first; showCandidate prints the uid, the first nodule's index, whether its label says "not a
    nodule" (False) and the indices of the nodules."""
    series_uid = UID + series
    scan_on_disk_or_skip(real_luna, series_uid)
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"), series_uid=series_uid)
    pos_list = [i for i, x in enumerate(ds.candidateInfo_list) if x.isNodule_bool]
    _, pos_t, _, _ = ds[pos_list[0]]
    line = f"{series_uid} {pos_list[0]} {bool(pos_t[0])} {pos_list}"
    samples, shown = BOOK_SCANS[series]
    evidence.record(samples=len(ds), shown=line)
    assert f"{len(ds)} training samples" == samples, f"{len(ds)} samples, the book printed {samples}"
    assert line == f"{series_uid} {shown}", line


@pytest.mark.claim(REAL)
def test_luna16_first_sample_is_the_crop_the_book_printed(real_luna, tmp_path, evidence):
    """p.271, In[11]: the first sample, the largest nodule (series ...886, 32.27 mm), is the crop around voxel
    (91, 360, 341) labelled [0, 1], whose corners hold the Hounsfield units the book printed."""
    series_uid = UID + BOOK_FIRST_SAMPLE_SERIES
    scan_on_disk_or_skip(real_luna, series_uid)
    ds = LunaDataset(real_luna, RawCandidateCache(tmp_path / "cache"), series_uid=series_uid)
    candidate_t, pos_t, uid, center_irc = ds[0]
    crop, tail = BOOK_FIRST_SAMPLE.split("]]]]),")
    labels = [[int(v) for v in t.split(",")] for t in re.findall(r"tensor\(\[([^\]]*)\]\)", tail)]
    corners = [0, 1, 2, 45, 46, 47]
    printed = np.array(printed_numbers(crop)).reshape(6, 6, 6)
    evidence.record(center_irc=center_irc.tolist(), diameter_mm=ds.candidateInfo_list[0].diameter_mm)
    assert ds.candidateInfo_list[0] == getCandidateInfoList(str(real_luna), requireOnDisk_bool=False)[0]
    assert uid == series_uid and f"'{uid}'" in tail
    assert [pos_t.tolist(), center_irc.tolist()] == labels == [[0, 1], [91, 360, 341]], (pos_t, center_irc)
    assert candidate_t.shape == (1, 32, 48, 48) and candidate_t.dtype == torch.float32
    np.testing.assert_array_equal(candidate_t[0].numpy()[np.ix_([0, 1, 2, 29, 30, 31], corners, corners)], printed)
