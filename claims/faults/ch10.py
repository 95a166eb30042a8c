"""Faults that reach the claims of chapter 10 (the shared ones are in ``torch_core``).

Most break the book's LUNA16 pipeline as ``claims/book/luna/`` rebuilds it; a few break what it rests on
(SimpleITK, diskcache, ``torch.utils.data``, the losses). The book's code keeps the candidate list and the
last CT in ``functools.lru_cache``s: a fault that changes what they hold runs through ``fresh``, which empties
both when it is planted and when it is lifted, so that no list or CT built with the fault outlives it, or the
other way round. The skeptic's faults at the end change the experiments of pages 260 and 275, not the code.
"""

from __future__ import annotations

import functools
import io
import math
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torch.nn.functional as F
from diskcache import FanoutCache
from torch.utils.data import DataLoader, Dataset

from claims.book.luna import cache as cache_module
from claims.book.luna import candidates, coords, ct
from claims.book.luna.dataset import LunaDataset
from claims.book.luna.layout import ANNOTATION_COLUMNS, CANDIDATE_COLUMNS
from claims.experiments.disk_cache import PicklingGzipDisk
from claims.faults import fault, replace, replace_everywhere, skeptic

READ_ROWS = candidates.read_rows
GET_CANDIDATE_INFO_LIST = candidates.getCandidateInfoList
READ_IMAGE, GET_ARRAY_FROM_IMAGE = sitk.ReadImage, sitk.GetArrayFromImage
IRC2XYZ, XYZ2IRC = coords.irc2xyz, coords.xyz2irc
GETITEM = LunaDataset.__getitem__
INIT = LunaDataset.__init__
DATALOADER_INIT = DataLoader.__init__


def fresh(patch: Iterator[None]) -> Iterator[None]:
    """``patch`` (a ``replace``), with the book's candidate list and CT caches emptied before and after it."""
    candidates.getCandidateInfoList.cache_clear()
    ct.getCt.cache_clear()
    try:
        yield from patch
    finally:
        candidates.getCandidateInfoList.cache_clear()
        ct.getCt.cache_clear()


# -- page 257: reading the CSV files ---------------------------------------------------------------


@fault("luna-csv-reader-drops-the-last-row")
def luna_csv_reader_drops_the_last_row():
    """The book's CSV reading (read_rows) loses the last row of candidates.csv and annotations.csv."""
    yield from fresh(replace_everywhere(candidates, "read_rows", lambda path, columns: READ_ROWS(path, columns)[:-1]))


def _zyx(path, columns):
    return [[r[0], r[3], r[2], r[1], r[4]] for r in READ_ROWS(path, columns)]


@fault("luna-csv-reader-reads-coordinates-as-zyx")
def luna_csv_reader_reads_coordinates_as_zyx():
    """The book's CSV reading (read_rows) gives each row's coordX, coordY, coordZ in the order z, y, x."""
    yield from fresh(replace_everywhere(candidates, "read_rows", _zyx))


def _class_flipped(path, columns):
    rows = READ_ROWS(path, columns)
    if columns[-1] != "class":
        return rows
    return [r[:4] + [{"0": "1", "1": "0"}[r[4].strip()]] for r in rows]


@fault("luna-csv-reader-flips-the-class")
def luna_csv_reader_flips_the_class():
    """The book's CSV reading (read_rows) gives candidates.csv's class 1 as 0 and 0 as 1."""
    yield from fresh(replace_everywhere(candidates, "read_rows", _class_flipped))


def _class_of_the_row_before(path, columns):
    rows = READ_ROWS(path, columns)
    if columns[-1] != "class":
        return rows
    return [r[:4] + [before[4]] for r, before in zip(rows, rows[-1:] + rows[:-1])]


@fault("luna-csv-reader-shifts-the-class")
def luna_csv_reader_shifts_the_class():
    """The book's CSV reading (read_rows) gives each candidates.csv row the class of the row before it (as many 1s)."""
    yield from fresh(replace_everywhere(candidates, "read_rows", _class_of_the_row_before))


# -- page 259: the candidate list --------------------------------------------------------------------


class _MutableCandidateInfo(list):
    """A list with CandidateInfoTuple's field names: readable by name and position, but mutable."""

    _fields = candidates.CandidateInfoTuple._fields

    def __init__(self, *values):
        super().__init__(values)

    def __getattr__(self, name):
        if name in self._fields:
            return self[self._fields.index(name)]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        self[self._fields.index(name)] = value

    __hash__ = object.__hash__


@fault("candidate-info-is-a-mutable-list")
def candidate_info_is_a_mutable_list():
    """CandidateInfoTuple is a list with named fields (mutable, not a tuple) instead of a namedtuple."""
    yield from fresh(replace_everywhere(candidates, "CandidateInfoTuple", _MutableCandidateInfo))


def _ascending(root, requireOnDisk_bool=True):
    return sorted(GET_CANDIDATE_INFO_LIST(root, requireOnDisk_bool))


@fault("candidate-list-sort-not-reversed")
def candidate_list_sort_not_reversed():
    """getCandidateInfoList sorts its list ascending (non-nodules first, smallest first): reverse=True dropped."""
    yield from fresh(replace_everywhere(candidates, "getCandidateInfoList", _ascending))


def _by_diameter_alone(root, requireOnDisk_bool=True):
    return sorted(GET_CANDIDATE_INFO_LIST(root, requireOnDisk_bool), key=lambda c: c.diameter_mm, reverse=True)


@fault("candidate-list-sorted-by-diameter-alone")
def candidate_list_sorted_by_diameter_alone():
    """getCandidateInfoList sorts by diameter alone, largest first: isNodule_bool no longer leads the order."""
    yield from fresh(replace_everywhere(candidates, "getCandidateInfoList", _by_diameter_alone))


def _within_half(center_xyz, annotations):
    for annotation_xyz, diameter_mm in annotations:
        if all(abs(center_xyz[i] - annotation_xyz[i]) <= diameter_mm / 2 for i in range(3)):
            return diameter_mm
    return 0.0


@fault("candidate-diameter-within-half-not-a-quarter")
def candidate_diameter_within_half_not_a_quarter():
    """A candidate takes an annotation's diameter within half that diameter on every axis, not a quarter."""
    yield from fresh(replace_everywhere(candidates, "candidate_diameter", _within_half))


def _last_match(center_xyz, annotations):
    for annotation_xyz, diameter_mm in reversed(annotations):
        if all(abs(center_xyz[i] - annotation_xyz[i]) <= diameter_mm / 4 for i in range(3)):
            return diameter_mm
    return 0.0


@fault("candidate-diameter-takes-the-last-match")
def candidate_diameter_takes_the_last_match():
    """A candidate within a quarter diameter of several annotations takes the last one's diameter, not the first's."""
    yield from fresh(replace_everywhere(candidates, "candidate_diameter", _last_match))


def _pooling_every_series(root, requireOnDisk_bool=True):
    every_annotation = [
        (tuple(float(v) for v in row[1:4]), float(row[4]))
        for row in READ_ROWS(Path(root) / "annotations.csv", ANNOTATION_COLUMNS)
    ]
    listed = GET_CANDIDATE_INFO_LIST(root, requireOnDisk_bool)
    pooled = [c._replace(diameter_mm=candidates.candidate_diameter(c.center_xyz, every_annotation)) for c in listed]
    return sorted(pooled, reverse=True)


@fault("candidate-diameter-pools-every-series")
def candidate_diameter_pools_every_series():
    """getCandidateInfoList matches each candidate against every series' annotations, not only its own series'."""
    yield from fresh(replace_everywhere(candidates, "getCandidateInfoList", _pooling_every_series))


def _in_file_order(root, requireOnDisk_bool=True):
    position = {
        (row[0], tuple(float(v) for v in row[1:4])): n
        for n, row in enumerate(READ_ROWS(Path(root) / "candidates.csv", CANDIDATE_COLUMNS))
    }
    listed = GET_CANDIDATE_INFO_LIST(root, requireOnDisk_bool)
    return sorted(listed, key=lambda c: position[c.series_uid, c.center_xyz])


@fault("candidate-list-left-in-file-order")
def candidate_list_left_in_file_order():
    """getCandidateInfoList leaves its list in candidates.csv's order: the sort is dropped."""
    yield from fresh(replace_everywhere(candidates, "getCandidateInfoList", _in_file_order))


def _every_row(root, requireOnDisk_bool=True):
    return GET_CANDIDATE_INFO_LIST(root, False)


@fault("candidate-list-ignores-require-on-disk")
def candidate_list_ignores_require_on_disk():
    """getCandidateInfoList keeps the candidates of series with no CT on disk (requireOnDisk_bool ignored)."""
    yield from fresh(replace_everywhere(candidates, "getCandidateInfoList", _every_row))


# -- page 260: caching -------------------------------------------------------------------------------


def _never_memoize(self, name=None, typed=False, expire=None, tag=None, ignore=()):
    return lambda function: functools.wraps(function)(lambda *args, **kwargs: function(*args, **kwargs))


@fault("diskcache-memoize-never-hits")
def diskcache_memoize_never_hits():
    """diskcache's memoize stores nothing: every call runs the function again (the disk cache is never hit)."""
    yield from fresh(replace(FanoutCache, "memoize", _never_memoize))


@fault("book-cache-has-diskcache-default-size-limit")
def book_cache_has_diskcache_default_size_limit():
    """getCache leaves out util/disk.py's size_limit=3e11: diskcache culls past its default, 1 GiB."""
    yield from replace(cache_module, "SIZE_LIMIT", 2**30)


@fault("get-ct-lru-cache-never-hits")
def get_ct_lru_cache_never_hits():
    """The book's getCt keeps no CT in memory: lru_cache(0), every call reads the files again."""
    yield from fresh(replace(ct, "getCt", functools.lru_cache(0)(lambda root, series_uid: ct.Ct(root, series_uid))))


@fault("book-gzip-disk-compresses-every-value")
def book_gzip_disk_compresses_every_value():
    """The book's GzipDisk pickles and gzips every value, as it meant to, not only values of type bytes."""
    yield from fresh(replace_everywhere(cache_module, "BookGzipDisk", PicklingGzipDisk))


@fault("diskcache-core-keeps-python-2-names")
def diskcache_core_keeps_python_2_names():
    """diskcache.core has the names BytesType and BytesIO again, but they are not bytes and io.BytesIO.

    Here they are str and io.StringIO, Python 3's text types, which diskcache never exported: on Python 2 its
    BytesType was str, which there is the bytes type, and its BytesIO a byte buffer, as on Python 3 (bytes,
    io.BytesIO). What the fault plants is names that import but are not the byte types.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("diskcache.core.BytesType", str, raising=False)
        mp.setattr("diskcache.core.BytesIO", io.StringIO, raising=False)
        yield


# -- page 263: MetaIO, SimpleITK, Hounsfield units, coordinates ------------------------------------


def _without_geometry(*args, **kwargs):
    image = READ_IMAGE(*args, **kwargs)
    image.SetSpacing([1.0] * image.GetDimension())
    image.SetOrigin([0.0] * image.GetDimension())
    image.SetDirection(np.eye(image.GetDimension()).ravel().tolist())
    return image


@fault("simpleitk-read-image-drops-the-header-geometry")
def simpleitk_read_image_drops_the_header_geometry():
    """sitk.ReadImage ignores the header's ElementSpacing, Offset and TransformMatrix (unit, zero, identity)."""
    yield from fresh(replace(sitk, "ReadImage", _without_geometry))


def _array_in_xyz_order(image):
    return np.ascontiguousarray(GET_ARRAY_FROM_IMAGE(image).transpose())


@fault("simpleitk-get-array-from-image-returns-xyz")
def simpleitk_get_array_from_image_returns_xyz():
    """sitk.GetArrayFromImage returns the voxels in (x, y, z) order, GetSize()'s, not (z, y, x)."""
    yield from fresh(replace(sitk, "GetArrayFromImage", _array_in_xyz_order))


@fault("book-ct-clips-at-2000-not-1000")
def book_ct_clips_at_2000_not_1000():
    """The book's Ct clips Hounsfield units to [-1000, 2000] instead of [-1000, 1000]."""
    yield from fresh(replace(ct, "HU_MAX", 2000))


def _irc2xyz_without_direction(coord_irc, origin_xyz, vxSize_xyz, direction_a):
    return IRC2XYZ(coord_irc, origin_xyz, vxSize_xyz, np.eye(3))


@fault("book-irc2xyz-skips-the-direction-matrix")
def book_irc2xyz_skips_the_direction_matrix():
    """The book's irc2xyz leaves out the direction matrix: xyz = reversed(irc) * voxel_size + origin."""
    yield from fresh(replace_everywhere(coords, "irc2xyz", _irc2xyz_without_direction))


def _irc2xyz_with_inverse_transpose(coord_irc, origin_xyz, vxSize_xyz, direction_a):
    return IRC2XYZ(coord_irc, origin_xyz, vxSize_xyz, np.linalg.inv(np.asarray(direction_a)).T)


@fault("book-irc2xyz-assumes-an-orthonormal-direction")
def book_irc2xyz_assumes_an_orthonormal_direction():
    """The book's irc2xyz uses inv(direction).T for the direction: the same matrix only when it is orthonormal."""
    yield from fresh(replace_everywhere(coords, "irc2xyz", _irc2xyz_with_inverse_transpose))


def _xyz2irc_right(coord_xyz, origin_xyz, vxSize_xyz, direction_a):
    """xyz2irc as the inverse of irc2xyz for any direction matrix: inv(direction) @ (xyz - origin) / voxel_size."""
    offset_xyz = np.array(coord_xyz) - np.array(origin_xyz)
    cri_a = np.round((np.linalg.inv(np.asarray(direction_a)) @ offset_xyz) / np.array(vxSize_xyz))
    return coords.IrcTuple(int(cri_a[2]), int(cri_a[1]), int(cri_a[0]))


@fault("book-xyz2irc-made-right")
def book_xyz2irc_made_right():
    """The book's xyz2irc applies inv(direction) to the column vector, so it inverts irc2xyz for every direction."""
    yield from fresh(replace_everywhere(coords, "xyz2irc", _xyz2irc_right))


def _halves_up(coord_xyz, origin_xyz, vxSize_xyz, direction_a):
    """The book's formula, rounding halves up (floor(v + 0.5)) instead of np.round's halves to even."""
    offset_xyz = np.array(coord_xyz) - np.array(origin_xyz)
    cri_a = np.floor((offset_xyz @ np.linalg.inv(np.asarray(direction_a))) / np.array(vxSize_xyz) + 0.5)
    return coords.IrcTuple(int(cri_a[2]), int(cri_a[1]), int(cri_a[0]))


@fault("book-xyz2irc-rounds-halves-up")
def book_xyz2irc_rounds_halves_up():
    """The book's xyz2irc rounds a voxel coordinate's halves up (floor(v + 0.5)), as ITK does, not to even."""
    yield from fresh(replace_everywhere(coords, "xyz2irc", _halves_up))


def _xyz2irc_without_origin(coord_xyz, origin_xyz, vxSize_xyz, direction_a):
    return XYZ2IRC(coord_xyz, (0.0, 0.0, 0.0), vxSize_xyz, direction_a)


@fault("book-xyz2irc-ignores-the-origin")
def book_xyz2irc_ignores_the_origin():
    """The book's xyz2irc leaves out the origin: voxels are counted from patient (0, 0, 0)."""
    yield from fresh(replace_everywhere(coords, "xyz2irc", _xyz2irc_without_origin))


# -- page 271: the Dataset ---------------------------------------------------------------------------


@fault("dataset-base-class-supplies-len-and-getitem")
def dataset_base_class_supplies_len_and_getitem():
    """torch.utils.data.Dataset gives subclasses a __len__ (1) and a __getitem__ (the index as a tensor)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Dataset, "__len__", lambda self: 1, raising=False)
        mp.setattr(Dataset, "__getitem__", lambda self, index: torch.tensor(index))
        yield


def _dataloader_asking_the_length(self, dataset, *args, **kwargs):
    len(dataset)
    DATALOADER_INIT(self, dataset, *args, **kwargs)


@fault("dataloader-asks-every-dataset-its-length")
def dataloader_asks_every_dataset_its_length():
    """DataLoader calls len(dataset) whatever its sampler, and for an IterableDataset too."""
    yield from replace(DataLoader, "__init__", _dataloader_asking_the_length)


@fault("luna-dataset-getitem-swaps-the-first-two")
def luna_dataset_getitem_swaps_the_first_two():
    """LunaDataset.__getitem__(0) gives candidate 1's sample and __getitem__(1) candidate 0's."""
    yield from fresh(replace(LunaDataset, "__getitem__", lambda self, ndx: GETITEM(self, {0: 1, 1: 0}.get(ndx, ndx))))


@fault("luna-dataset-len-leaves-out-the-last")
def luna_dataset_len_leaves_out_the_last():
    """LunaDataset.__len__ is one less than its number of candidates."""
    yield from replace(LunaDataset, "__len__", lambda self: len(self.candidateInfo_list) - 1)


@fault("luna-dataset-getitem-ignores-the-index")
def luna_dataset_getitem_ignores_the_index():
    """LunaDataset.__getitem__ returns the first candidate's sample whatever the index."""
    yield from fresh(replace(LunaDataset, "__getitem__", lambda self, ndx: GETITEM(self, 0)))


def _reversed_label(self, ndx):
    candidate_t, pos_t, series_uid, center_irc = GETITEM(self, ndx)
    return candidate_t, pos_t.flip(0), series_uid, center_irc


@fault("luna-sample-label-reversed")
def luna_sample_label_reversed():
    """A LunaDataset sample's label is [nodule, not nodule] instead of [not nodule, nodule]."""
    yield from fresh(replace(LunaDataset, "__getitem__", _reversed_label))


def _cut_at_the_border(center_val, width, size):
    start_ndx = int(round(center_val - width / 2))
    return slice(max(start_ndx, 0), min(start_ndx + int(width), size))


@fault("book-crop-not-shifted-at-the-border")
def book_crop_not_shifted_at_the_border():
    """getRawCandidate's crop is cut at the volume's border instead of shifted inside it (so it comes out smaller)."""
    yield from fresh(replace(ct, "crop_slice", _cut_at_the_border))


# -- page 275: the training/validation split, and outliers -------------------------------------------


def _one_place_cut(self, root, cache, val_stride=0, isValSet_bool=None, series_uid=None):
    INIT(self, root, cache, series_uid=series_uid)
    if val_stride > 0:
        n_val = math.ceil(len(self.candidateInfo_list) / val_stride)
        whole = self.candidateInfo_list
        self.candidateInfo_list = whole[:n_val] if isValSet_bool else whole[n_val:]


@fault("val-stride-takes-a-one-place-cut")
def val_stride_takes_a_one_place_cut():
    """LunaDataset's val_stride split cuts the sorted list in one place: the first 1/val_stride is validation."""
    yield from fresh(replace(LunaDataset, "__init__", _one_place_cut))


@fault("mse-loss-is-l1-loss")
def mse_loss_is_l1_loss():
    """F.mse_loss (and nn.MSELoss) returns the mean absolute error instead of the mean squared error."""
    yield from replace(F, "mse_loss", F.l1_loss)


@fault("l1-loss-is-mse-loss")
def l1_loss_is_mse_loss():
    """F.l1_loss (and nn.L1Loss) returns the mean squared error instead of the mean absolute error."""
    yield from replace(F, "l1_loss", F.mse_loss)


# -- skeptic's faults: the experiments changed so that the statements, as written, would not hold ---------


@skeptic("cached-scan-no-bigger-than-the-crop")
def cached_scan_no_bigger_than_the_crop():
    """The timed scan is 32 x 48 x 48 voxels, one crop: loading the whole CT costs what reading the crop costs."""
    yield from replace("tests.ch10.test_p260_caching", "SCAN_SHAPE_IRC", (32, 48, 48))


@skeptic("outliers-within-the-noise")
def outliers_within_the_noise():
    """The training set's 'outliers' are moved by 0.1, the noise's own size, instead of 10: they are no outliers."""
    yield from replace("tests.ch10.test_p275_outliers", "OUTLIER_SHIFT", 0.1)


@skeptic("validation-outliers-too-small-to-swamp")
def validation_outliers_too_small_to_swamp():
    """The validation set's outliers are moved by 2 instead of 10: too little to swamp the pulled fit's error."""
    yield from replace("tests.ch10.test_p275_outliers", "VAL_OUTLIER_SHIFT", 2.0)


@skeptic("robust-training-underfits")
def robust_training_underfits():
    """The L1 fits learn at 0.005 instead of 0.5: 'hardly moved' by the outliers because they hardly move at all."""
    yield from replace("tests.ch10.test_p275_outliers", "ROBUST_LR", 0.005)


@skeptic("missing-kind-like-a-seen-one")
def missing_kind_like_a_seen_one():
    """The kind left out lies at (3, 0.5), beside kind A at (3, 0): no kind of its own to the model."""
    yield from replace("tests.ch10.test_p275_every_kind", "KIND_B", (3.0, 0.5))
