"""Results of a guarded call put back in their rows (hoarfrost.engine.batched.scatter)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hoarfrost.engine.batched import scatter

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
