"""Faults that reach the claims of chapter 10 (the shared ones are in ``torch_core``).

Most break the book's LUNA16 pipeline as ``claims/book/luna/`` rebuilds it; a few break what it rests on
(SimpleITK, diskcache, ``torch.utils.data``, the losses). The book's code keeps the candidate list and the
last CT in ``functools.lru_cache``s: every fault here empties both when it is planted and when it is lifted,
so that no list or CT built with the fault outlives it, or the other way round.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import math
import pickle
import sys

import numpy as np
import pytest
import SimpleITK as sitk
import torch
import torch.nn.functional as F
from diskcache import Disk, FanoutCache
from torch.utils.data import Dataset

from claims.book.luna import cache as cache_module
from claims.book.luna import candidates, coords, ct
from claims.book.luna.dataset import LunaDataset
from claims.faults import fault


def _clear_book_caches() -> None:
    candidates.getCandidateInfoList.cache_clear()
    ct.getCt.cache_clear()


@contextlib.contextmanager
def _patching():
    """A MonkeyPatch whose changes, and the book's caches filled while they held, end with the block."""
    _clear_book_caches()
    try:
        with pytest.MonkeyPatch.context() as mp:
            yield mp
    finally:
        _clear_book_caches()


def _replace_everywhere(mp: pytest.MonkeyPatch, module, name: str, replacement) -> None:
    """``module.name`` replaced by ``replacement`` there and in every loaded module that imported it by name
    (``from claims.book.luna.coords import xyz2irc``), tests included."""
    original = getattr(module, name)
    for loaded in list(sys.modules.values()):
        if loaded is not None and vars(loaded).get(name) is original:
            mp.setattr(loaded, name, replacement)


# -- page 257: reading the CSV files ---------------------------------------------------------------


@fault("luna-csv-reader-drops-the-last-row")
def luna_csv_reader_drops_the_last_row():
    """The book's CSV reading (read_rows) loses the last row of candidates.csv and annotations.csv."""
    read_rows = candidates.read_rows
    with _patching() as mp:
        _replace_everywhere(mp, candidates, "read_rows", lambda path, columns: read_rows(path, columns)[:-1])
        yield


@fault("luna-csv-reader-reads-coordinates-as-zyx")
def luna_csv_reader_reads_coordinates_as_zyx():
    """The book's CSV reading (read_rows) gives each row's coordX, coordY, coordZ in the order z, y, x."""
    read_rows = candidates.read_rows
    with _patching() as mp:
        _replace_everywhere(
            mp,
            candidates,
            "read_rows",
            lambda path, columns: [[r[0], r[3], r[2], r[1], r[4]] for r in read_rows(path, columns)],
        )
        yield


@fault("luna-csv-reader-flips-the-class")
def luna_csv_reader_flips_the_class():
    """The book's CSV reading (read_rows) gives candidates.csv's class 1 as 0 and 0 as 1."""
    read_rows = candidates.read_rows

    def flipped(path, columns):
        rows = read_rows(path, columns)
        if columns[-1] != "class":
            return rows
        return [r[:4] + [{"0": "1", "1": "0"}[r[4].strip()]] for r in rows]

    with _patching() as mp:
        _replace_everywhere(mp, candidates, "read_rows", flipped)
        yield


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
    with _patching() as mp:
        _replace_everywhere(mp, candidates, "CandidateInfoTuple", _MutableCandidateInfo)
        yield


@fault("candidate-list-sort-not-reversed")
def candidate_list_sort_not_reversed():
    """getCandidateInfoList sorts its list ascending (non-nodules first, smallest first): reverse=True dropped."""
    get_list = candidates.getCandidateInfoList

    def ascending(root, requireOnDisk_bool=True):
        return sorted(get_list(root, requireOnDisk_bool))

    with _patching() as mp:
        _replace_everywhere(mp, candidates, "getCandidateInfoList", ascending)
        yield


@fault("candidate-diameter-within-half-not-a-quarter")
def candidate_diameter_within_half_not_a_quarter():
    """A candidate takes an annotation's diameter within half that diameter on every axis, not a quarter."""

    def within_half(center_xyz, annotations):
        for annotation_xyz, diameter_mm in annotations:
            if all(abs(center_xyz[i] - annotation_xyz[i]) <= diameter_mm / 2 for i in range(3)):
                return diameter_mm
        return 0.0

    with _patching() as mp:
        _replace_everywhere(mp, candidates, "candidate_diameter", within_half)
        yield


@fault("candidate-list-ignores-require-on-disk")
def candidate_list_ignores_require_on_disk():
    """getCandidateInfoList keeps the candidates of series with no CT on disk (requireOnDisk_bool ignored)."""
    get_list = candidates.getCandidateInfoList

    def everything(root, requireOnDisk_bool=True):
        return get_list(root, False)

    with _patching() as mp:
        _replace_everywhere(mp, candidates, "getCandidateInfoList", everything)
        yield


# -- page 260: caching -------------------------------------------------------------------------------


@fault("diskcache-memoize-never-hits")
def diskcache_memoize_never_hits():
    """diskcache's memoize stores nothing: every call runs the function again (the disk cache is never hit)."""

    def memoize(self, name=None, typed=False, expire=None, tag=None, ignore=()):
        return lambda function: functools.wraps(function)(lambda *args, **kwargs: function(*args, **kwargs))

    with _patching() as mp:
        mp.setattr(FanoutCache, "memoize", memoize)
        yield


@fault("get-ct-lru-cache-never-hits")
def get_ct_lru_cache_never_hits():
    """The book's getCt keeps no CT in memory: lru_cache(0), every call reads the files again."""
    with _patching() as mp:
        mp.setattr(ct, "getCt", functools.lru_cache(0)(lambda root, series_uid: ct.Ct(root, series_uid)))
        yield


@fault("book-gzip-disk-compresses-every-value")
def book_gzip_disk_compresses_every_value():
    """The book's GzipDisk pickles and gzips every value, as it meant to, not only values of type bytes."""

    def store(self, value, read, key=None):
        data = gzip.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=1)
        return Disk.store(self, data, False, key=key)

    def fetch(self, mode, filename, value, read):
        return pickle.loads(gzip.decompress(Disk.fetch(self, mode, filename, value, read)))

    with _patching() as mp:
        mp.setattr(cache_module.BookGzipDisk, "store", store)
        mp.setattr(cache_module.BookGzipDisk, "fetch", fetch)
        yield


# -- page 263: MetaIO, SimpleITK, Hounsfield units, coordinates ------------------------------------


@fault("simpleitk-read-image-drops-the-header-geometry")
def simpleitk_read_image_drops_the_header_geometry():
    """sitk.ReadImage ignores the header's ElementSpacing, Offset and TransformMatrix (unit, zero, identity)."""
    read_image = sitk.ReadImage

    def without_geometry(*args, **kwargs):
        image = read_image(*args, **kwargs)
        image.SetSpacing([1.0] * image.GetDimension())
        image.SetOrigin([0.0] * image.GetDimension())
        image.SetDirection(np.eye(image.GetDimension()).ravel().tolist())
        return image

    with _patching() as mp:
        mp.setattr(sitk, "ReadImage", without_geometry)
        yield


@fault("simpleitk-get-array-from-image-returns-xyz")
def simpleitk_get_array_from_image_returns_xyz():
    """sitk.GetArrayFromImage returns the voxels in (x, y, z) order, GetSize()'s, not (z, y, x)."""
    get_array = sitk.GetArrayFromImage
    with _patching() as mp:
        mp.setattr(sitk, "GetArrayFromImage", lambda image: np.ascontiguousarray(get_array(image).transpose()))
        yield


@fault("book-ct-clips-at-2000-not-1000")
def book_ct_clips_at_2000_not_1000():
    """The book's Ct clips Hounsfield units to [-1000, 2000] instead of [-1000, 1000]."""
    with _patching() as mp:
        mp.setattr(ct, "HU_MAX", 2000)
        yield


@fault("book-irc2xyz-skips-the-direction-matrix")
def book_irc2xyz_skips_the_direction_matrix():
    """The book's irc2xyz leaves out the direction matrix: xyz = reversed(irc) * voxel_size + origin."""
    irc2xyz = coords.irc2xyz
    with _patching() as mp:
        _replace_everywhere(
            mp,
            coords,
            "irc2xyz",
            lambda coord_irc, origin_xyz, vxSize_xyz, direction_a: irc2xyz(
                coord_irc, origin_xyz, vxSize_xyz, np.eye(3)
            ),
        )
        yield


def _xyz2irc_right(coord_xyz, origin_xyz, vxSize_xyz, direction_a):
    """xyz2irc as the inverse of irc2xyz for any direction matrix: inv(direction) @ (xyz - origin) / voxel_size."""
    offset_xyz = np.array(coord_xyz) - np.array(origin_xyz)
    cri_a = np.round((np.linalg.inv(np.asarray(direction_a)) @ offset_xyz) / np.array(vxSize_xyz))
    return coords.IrcTuple(int(cri_a[2]), int(cri_a[1]), int(cri_a[0]))


@fault("book-xyz2irc-made-right")
def book_xyz2irc_made_right():
    """The book's xyz2irc applies inv(direction) to the column vector, so it inverts irc2xyz for every direction."""
    with _patching() as mp:
        _replace_everywhere(mp, coords, "xyz2irc", _xyz2irc_right)
        yield


@fault("book-xyz2irc-rounds-halves-up")
def book_xyz2irc_rounds_halves_up():
    """The book's xyz2irc rounds a voxel coordinate's halves up (floor(v + 0.5)), as ITK does, not to even."""

    def halves_up(coord_xyz, origin_xyz, vxSize_xyz, direction_a):  # the book's formula, another rounding
        offset_xyz = np.array(coord_xyz) - np.array(origin_xyz)
        cri_a = np.floor((offset_xyz @ np.linalg.inv(np.asarray(direction_a))) / np.array(vxSize_xyz) + 0.5)
        return coords.IrcTuple(int(cri_a[2]), int(cri_a[1]), int(cri_a[0]))

    with _patching() as mp:
        _replace_everywhere(mp, coords, "xyz2irc", halves_up)
        yield


@fault("book-xyz2irc-ignores-the-origin")
def book_xyz2irc_ignores_the_origin():
    """The book's xyz2irc leaves out the origin: voxels are counted from patient (0, 0, 0)."""
    xyz2irc = coords.xyz2irc
    with _patching() as mp:
        _replace_everywhere(
            mp,
            coords,
            "xyz2irc",
            lambda coord_xyz, origin_xyz, vxSize_xyz, direction_a: xyz2irc(
                coord_xyz, (0.0, 0.0, 0.0), vxSize_xyz, direction_a
            ),
        )
        yield


# -- page 271: the Dataset ---------------------------------------------------------------------------


@fault("dataset-base-class-supplies-len-and-getitem")
def dataset_base_class_supplies_len_and_getitem():
    """torch.utils.data.Dataset gives subclasses a __len__ (0) and a __getitem__ (the index as a tensor)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Dataset, "__len__", lambda self: 0, raising=False)
        mp.setattr(Dataset, "__getitem__", lambda self, index: torch.tensor(index))
        yield


@fault("luna-dataset-getitem-ignores-the-index")
def luna_dataset_getitem_ignores_the_index():
    """LunaDataset.__getitem__ returns the first candidate's sample whatever the index."""
    getitem = LunaDataset.__getitem__
    with _patching() as mp:
        mp.setattr(LunaDataset, "__getitem__", lambda self, ndx: getitem(self, 0))
        yield


@fault("luna-sample-label-reversed")
def luna_sample_label_reversed():
    """A LunaDataset sample's label is [nodule, not nodule] instead of [not nodule, nodule]."""
    getitem = LunaDataset.__getitem__

    def reversed_label(self, ndx):
        candidate_t, pos_t, series_uid, center_irc = getitem(self, ndx)
        return candidate_t, pos_t.flip(0), series_uid, center_irc

    with _patching() as mp:
        mp.setattr(LunaDataset, "__getitem__", reversed_label)
        yield


@fault("book-crop-not-shifted-at-the-border")
def book_crop_not_shifted_at_the_border():
    """getRawCandidate's crop is cut at the volume's border instead of shifted inside it (so it comes out smaller)."""

    def cut(center_val, width, size):
        start_ndx = int(round(center_val - width / 2))
        return slice(max(start_ndx, 0), min(start_ndx + int(width), size))

    with _patching() as mp:
        mp.setattr(ct, "crop_slice", cut)
        yield


# -- page 275: the training/validation split ---------------------------------------------------------


@fault("val-stride-takes-a-one-place-cut")
def val_stride_takes_a_one_place_cut():
    """LunaDataset's val_stride split cuts the sorted list in one place: the first 1/val_stride is validation."""
    init = LunaDataset.__init__

    def cut(self, root, cache, val_stride=0, isValSet_bool=None, series_uid=None):
        init(self, root, cache, series_uid=series_uid)
        if val_stride > 0:
            n_val = math.ceil(len(self.candidateInfo_list) / val_stride)
            whole = self.candidateInfo_list
            self.candidateInfo_list = whole[:n_val] if isValSet_bool else whole[n_val:]

    with _patching() as mp:
        mp.setattr(LunaDataset, "__init__", cut)
        yield


@fault("mse-loss-is-l1-loss")
def mse_loss_is_l1_loss():
    """F.mse_loss (and nn.MSELoss) returns the mean absolute error instead of the mean squared error."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "mse_loss", F.l1_loss)
        yield


@fault("l1-loss-is-mse-loss")
def l1_loss_is_mse_loss():
    """F.l1_loss (and nn.L1Loss) returns the mean squared error instead of the mean absolute error."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "l1_loss", F.mse_loss)
        yield
