"""How long a large result's chunks stay downloadable (server/chunks.py): for a while after
the result was made, whatever other sessions do meanwhile, within a byte budget on disk."""

from __future__ import annotations

import pyarrow as pa

from hoarfrost.server.chunks import ChunkStore, SpooledResult


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _result(store: ChunkStore, rows: int) -> SpooledResult:
    spool = store.spool()
    spool.add(pa.record_batch([pa.array(range(rows), pa.int64())], names=["ID"]))

    def convert(batches: list[pa.RecordBatch]) -> bytes:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batches[0].schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        return bytes(sink.getvalue().to_pybytes())

    return SpooledResult(spool, spool.plan(0), convert)


def test_many_results_of_other_sessions_do_not_take_a_young_one_away() -> None:
    clock = Clock()
    store = ChunkStore(keep_seconds=600, budget=1 << 30, clock=clock)
    try:
        first = _result(store, 1000)
        store.keep("q-first", first)
        for i in range(200):  # a busy server: many more results than any fixed count
            clock.now += 1
            store.keep(f"q-{i}", _result(store, 1000))
        assert store.get("q-first") is first and first.read(0) is not None
        clock.now = 1600.0  # past its time: it goes when the next result is kept
        store.keep("q-late", _result(store, 10))
        assert store.get("q-first") is None and first.read(0) is None
        assert all(store.get(q) is not None for q in ("q-0", "q-199", "q-late"))
    finally:
        store.close()


def test_past_the_byte_budget_the_oldest_results_go_first() -> None:
    clock = Clock()
    one = 8 * 1000  # bytes of one result's int64 column
    store = ChunkStore(keep_seconds=600, budget=3 * one + 1000, clock=clock)
    try:
        for i in range(5):
            store.keep(f"q-{i}", _result(store, 1000))
        assert [store.get(f"q-{i}") is not None for i in range(5)] == [
            False,
            False,
            True,
            True,
            True,
        ]
        big = _result(store, 100_000)  # over the budget alone: still kept, as the newest
        store.keep("q-big", big)
        assert store.get("q-big") is big and big.read(0) is not None
        assert all(store.get(f"q-{i}") is None for i in range(5))
    finally:
        store.close()
