"""The on-disk contract shared with wubloader, on both fastseg twins.

``STEM.tombstone`` hides ``STEM.ts`` (the extension replaced); ``STEM.ts.tombstone``
hides nothing. Among copies of one start time that are not ``full``, the
largest wins and equal sizes go to the first name; ``full`` copies prefer the
longest, then the largest, then the highest hash.
"""

import datetime as dt

from tests.fastseg.trees import fake_id, put

T0 = dt.datetime(2026, 11, 27, 17)
S = dt.timedelta(seconds=1)


def chosen(impl, hours, start=T0):
    return [s.name for s in impl.get_best_segments(str(hours), start, start + S) if s]


def test_stem_tombstone_hides_and_ts_tombstone_does_not(impl, tmp_path):
    hours = tmp_path / "ch" / "q"
    best = put(hours, T0, size=300, ident=fake_id("best"))
    second = put(hours, T0, size=200, ident=fake_id("second"))
    (best.parent / f"{best.name}.tombstone").touch()
    assert chosen(impl, hours) == [best.name]
    (best.parent / f"{best.stem}.tombstone").touch()
    impl.clear_cache()
    assert chosen(impl, hours) == [second.name]
    assert impl.list_segment_files(str(best.parent)) == [second.name]
    assert impl.list_segment_files(str(best.parent), include_tombstones=True) == sorted(
        [second.name, f"{best.name}.tombstone", f"{best.stem}.tombstone"]
    )


def test_non_full_ties_take_the_first_name_larger_wins(impl, tmp_path):
    for type_ in ("partial", "suspect"):
        hours = tmp_path / type_ / "q"
        ids = sorted(fake_id((type_, i)) for i in range(4))
        for ident in reversed(ids):
            put(hours, T0, type=type_, size=100, ident=ident)
        assert chosen(impl, hours)[0].endswith(f"-{type_}-{ids[0]}.ts")
        larger = put(hours, T0, type=type_, size=101, ident=ids[-1][:-1] + "A")
        impl.clear_cache()
        assert chosen(impl, hours) == [larger.name]


def test_full_beats_suspect_beats_partial_whatever_the_size(impl, tmp_path):
    hours = tmp_path / "ch" / "q"
    put(hours, T0, type="partial", size=900)
    suspect = put(hours, T0, type="suspect", size=500)
    assert chosen(impl, hours) == [suspect.name]
    full = put(hours, T0, type="full", size=10)
    impl.clear_cache()
    assert chosen(impl, hours) == [full.name]
