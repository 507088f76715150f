"""Results of a guarded call put back in their rows (hoarfrost.engine.batched.scatter)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hoarfrost.engine.batched import BATCH_ROWS, scatter

MASK = pa.array([False, True, True, False, True])


@pytest.mark.parametrize(
    "values",
    [
        pa.array([1, 2, 3], pa.int64()),
        pa.array(["a", None, "c"]),
        pa.array([1.5, 2.5, None]),
        pa.array([[1], [], [2, 3]], pa.list_(pa.int64())),  # no replace_with_mask kernel
        pa.array([{"a": 1}, {"a": 2}, None], pa.struct([("a", pa.int64())])),
    ],
)
def test_values_land_where_the_mask_holds_and_null_elsewhere(values: pa.Array) -> None:
    out = scatter(values, MASK)
    assert out.type == values.type
    got = out.to_pylist()
    expected = values.to_pylist()
    assert got == [None, expected[0], expected[1], None, expected[2]]


@pytest.mark.parametrize("length", [1, 46_720, BATCH_ROWS, BATCH_ROWS + 5])
def test_batch_sized_masks_of_every_length(length: int) -> None:
    # Batch sizes share one array of NULLs (sliced); longer masks get their own.
    for type_ in (pa.int64(), pa.string()):
        mask = pa.array([i % 3 == 0 for i in range(length)])
        selected = mask.true_count
        values = pa.array(range(selected), pa.int64()).cast(type_)
        out = scatter(values, mask)
        again = scatter(values, mask)  # the shared NULLs are not changed by a scatter
        expected: list[object] = [None] * length
        for k, i in enumerate(i for i in range(length) if i % 3 == 0):
            expected[i] = values[k].as_py()
        assert out.to_pylist() == expected
        assert again.to_pylist() == expected
        assert scatter(pa.array([], type_), pa.array([False] * length)).null_count == length
