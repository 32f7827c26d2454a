"""Which variants of a master playlist a channel records (services.downloader.variants)."""

from services.downloader.playlist import Variant
from services.downloader.variants import MAX_QUALITIES, choose


def variants(*names: str) -> list[Variant]:
    return [Variant(name, f"http://origin.test/{i}.m3u8", 1000 * i) for i, name in enumerate(names)]


def test_unsafe_names_are_refused_and_the_rest_recorded():
    chosen = choose(variants("source", "../../tmp/x", ".fastseg", "/abs", "é" * 255, "480p"), None)
    assert [v.quality for v in chosen.recording] == ["source", "480p"]
    assert set(chosen.refused) == {"../../tmp/x", ".fastseg", "/abs", "é" * 255}
    assert {reason for reason, _ in chosen.refused.values()} == {"name"}
    assert "variant '../../tmp/x' starts with '.'" in chosen.refused["../../tmp/x"][1]
    assert "510 bytes in UTF-8" in chosen.refused["é" * 255][1]


def test_without_qualities_at_most_the_limit_in_the_masters_order():
    names = [f"v{i}" for i in range(MAX_QUALITIES + 5)]
    chosen = choose(variants(*names), None)
    assert [v.quality for v in chosen.recording] == names[:MAX_QUALITIES]
    assert set(chosen.refused) == set(names[MAX_QUALITIES:])
    assert chosen.refused[names[-1]][0] == "limit"
    assert f"over the {MAX_QUALITIES} qualities" in chosen.refused[names[-1]][1]


def test_with_qualities_only_those_and_the_missing_ones_named():
    chosen = choose(variants("source", "480p", "../x"), ["480p", "720p"])
    assert [v.quality for v in chosen.recording] == ["480p"]
    assert chosen.missing == ["720p"]
    assert set(chosen.refused) == {"../x"}
