"""The thermometer data file: read as the book's tensors, and bad files give one clear error."""

import pytest
import torch

from claims.book.thermometer import read_thermometer_csv
from claims.errors import DataFileError


def test_the_shipped_file_holds_the_books_eleven_readings(thermometer_cpu):
    assert thermometer_cpu.t_c.dtype == torch.float32 and thermometer_cpu.t_u.dtype == torch.float32
    assert thermometer_cpu.t_c.tolist()[:3] == [0.5, 14.0, 15.0]
    assert thermometer_cpu.t_u.shape == (11,)
    assert thermometer_cpu.t_u[-1].item() == pytest.approx(68.4)


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "cannot be read"),
        ("t_c;t_u\n0.5;35.7\n", "the header must be 't_c,t_u'"),
        ("t_c,t_u\n0.5,35.7\n14.0\n", "data row 2 ('14.0') is malformed: 1 fields instead of 2"),
        ("t_c,t_u\n0.5,thirty\n", "data row 1 ('0.5,thirty') is malformed"),
        ("t_c,t_u\n0.5,nan\n", "a reading is not finite"),
        ("t_c,t_u\n", "holds no readings"),
    ],
)
def test_a_bad_thermometer_file_is_one_clear_error(tmp_path, content, problem):
    path = tmp_path / "thermometer.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataFileError) as info:
        read_thermometer_csv(path)
    assert str(info.value).startswith(f"{path}: ")
    assert problem in str(info.value)
