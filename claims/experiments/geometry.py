"""Two small helpers the page-263 tests share: a MetaIO header's numbers, and a geometry-only SimpleITK image."""

from __future__ import annotations

import SimpleITK as sitk


def numbers(text: str) -> list[float]:
    """The numbers of a MetaIO field such as ``DimSize = 96 96 40``."""
    return [float(v) for v in text.split()]


def geometry(spacing, origin, direction) -> sitk.Image:
    """A one-voxel image that carries only a geometry, for SimpleITK's own conversions between index and point."""
    image = sitk.Image(1, 1, 1, sitk.sitkInt16)
    image.SetSpacing([float(v) for v in spacing])
    image.SetOrigin([float(v) for v in origin])
    image.SetDirection([float(v) for v in direction])
    return image
