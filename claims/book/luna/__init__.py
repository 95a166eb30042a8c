"""The book's chapter-10 data pipeline for LUNA16, rebuilt once and working on the real layout.

A LUNA16 tree is ``subset0/ ... subset9/`` folders of ``<series_uid>.mhd`` (MetaIO text header) with a
``.raw`` voxel file beside each, plus ``candidates.csv`` and ``annotations.csv`` at the top. The modules
follow the book's ``dsets.py`` and ``util.py``:

- ``coords``: ``IrcTuple``/``XyzTuple`` and the book's ``irc2xyz``/``xyz2irc``;
- ``candidates``: ``CandidateInfoTuple`` and ``getCandidateInfoList`` (diameter matching, reverse sort);
- ``ct``: the ``Ct`` loader (Hounsfield units clipped to [-1000, 1000]), ``getRawCandidate``'s crop
  and ``getCt`` with ``functools.lru_cache``;
- ``cache``: the disk cache of crops, ``diskcache`` with a gzip ``Disk`` as in the book;
- ``dataset``: ``LunaDataset`` with ``val_stride``;
- ``layout``: not the book's code, the suite's checks of a tree (the CSVs' columns, each MetaIO header
  against its ``.raw``, the root check ``--luna-root`` runs), which ``candidates`` and ``ct`` both use.

Bad input (a missing or truncated ``.raw``, a wrong ``DimSize``, a malformed CSV row, a series with no
CT on disk, a directory that is not a LUNA tree) raises ``claims.errors.DataFileError`` naming the file.
"""
