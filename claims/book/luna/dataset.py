"""The book's ``LunaDataset`` (sections 10.5-10.5.2): a ``torch.utils.data.Dataset`` of candidate crops.

``__len__`` is the number of candidates; ``__getitem__`` returns the book's 4-tuple: the crop as a
[1, 32, 48, 48] float32 tensor, the label ``[not nodule, nodule]`` (long), the series uid, and the
crop's centre voxel (index, row, col). With ``val_stride`` the validation set is every
``val_stride``-th candidate and the training set the rest.
"""

from __future__ import annotations

import copy

import torch
from torch.utils.data import Dataset

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.candidates import getCandidateInfoList

WIDTH_IRC = (32, 48, 48)


class LunaDataset(Dataset):
    def __init__(
        self,
        root,
        cache: RawCandidateCache,
        val_stride: int = 0,
        isValSet_bool: bool | None = None,
        series_uid: str | None = None,
    ):
        self.root = str(root)
        self.cache = cache
        self.candidateInfo_list = copy.copy(getCandidateInfoList(self.root))
        if series_uid:
            self.candidateInfo_list = [x for x in self.candidateInfo_list if x.series_uid == series_uid]

        if isValSet_bool:
            assert val_stride > 0, val_stride
            self.candidateInfo_list = self.candidateInfo_list[::val_stride]
            assert self.candidateInfo_list
        elif val_stride > 0:
            del self.candidateInfo_list[::val_stride]
            assert self.candidateInfo_list

    def __len__(self) -> int:
        return len(self.candidateInfo_list)

    def __getitem__(self, ndx: int):
        candidateInfo_tup = self.candidateInfo_list[ndx]
        candidate_a, center_irc = self.cache.getCtRawCandidate(
            self.root, candidateInfo_tup.series_uid, candidateInfo_tup.center_xyz, WIDTH_IRC
        )
        candidate_t = torch.from_numpy(candidate_a).to(torch.float32).unsqueeze(0)
        pos_t = torch.tensor([not candidateInfo_tup.isNodule_bool, candidateInfo_tup.isNodule_bool], dtype=torch.long)
        return candidate_t, pos_t, candidateInfo_tup.series_uid, torch.tensor(center_irc)
