"""The one write protocol (services/archive/writes.py): temp name, link, unlink.

docs/DESIGN.md#writing-a-segment: an existing file is never replaced, a reader
never sees half a file under a final name, and no temp file is left by a write
that fails, except the janitor's orphan, which is the only copy of its bytes.
"""

import hashlib
import os

import pytest

from fastseg import content_id
from services.archive import writes


def test_save_writes_through_a_temp_name_and_leaves_only_the_final_one(tmp_path):
    folder = tmp_path / "new-hour"  # made on the first write
    final = folder / "final.ts"
    assert writes.save(str(folder), "t.temp", str(final), b"bytes")
    assert final.read_bytes() == b"bytes"
    assert os.listdir(folder) == ["final.ts"]
    assert oct(final.stat().st_mode & 0o777) == oct(0o644 & ~_umask())


def test_an_existing_file_is_never_replaced(tmp_path):
    final = tmp_path / "final.ts"
    final.write_bytes(b"first")
    assert not writes.save(str(tmp_path), "t.temp", str(final), b"second")
    assert final.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["final.ts"]


def test_a_failed_save_leaves_no_temp_file(tmp_path):
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):  # a folder that is a file
        writes.save(str(tmp_path / "a-file"), "t.temp", str(tmp_path / "a-file" / "f"), b"x")
    with pytest.raises(FileNotFoundError):  # the final name's folder is missing: link fails
        writes.save(str(tmp_path), "t.temp", str(tmp_path / "missing" / "final.ts"), b"x")
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


def test_a_temp_name_is_never_shared(tmp_path):
    writes.close(writes.create(str(tmp_path / "t.temp"), str(tmp_path)))
    with pytest.raises(FileExistsError):
        writes.create(str(tmp_path / "t.temp"), str(tmp_path))


def test_link_into_place_keeps_the_temp_when_the_link_fails(tmp_path):
    """The janitor's orphan is the only copy of its bytes: a failed link must not lose it."""
    temp = tmp_path / "orphan.temp"
    temp.write_bytes(b"only copy")
    with pytest.raises(FileNotFoundError):
        writes.link_into_place(str(temp), str(tmp_path / "missing" / "final.ts"))
    assert temp.read_bytes() == b"only copy"
    assert writes.link_into_place(str(temp), str(tmp_path / "final.ts"))
    assert not temp.exists()


def test_a_temp_file_hashes_what_it_writes_and_is_named_by_it(tmp_path):
    temp = writes.TempFile(str(tmp_path / "hour"), "x.temp")
    for piece in (b"abc", bytearray(b"def"), memoryview(b"ghi")):
        temp.write(piece)
    assert temp.size == 9
    final = tmp_path / "hour" / f"{content_id(temp.hasher)}.ts"
    assert content_id(temp.hasher) == content_id(hashlib.sha256(b"abcdefghi"))
    assert temp.link(str(final))
    assert final.read_bytes() == b"abcdefghi"
    assert os.listdir(tmp_path / "hour") == [final.name]


def test_a_discarded_temp_file_leaves_nothing(tmp_path):
    temp = writes.TempFile(str(tmp_path), "x.temp")
    temp.write(b"half a segment")
    temp.discard()
    temp.discard()  # twice is harmless (a stop during a discard)
    assert os.listdir(tmp_path) == []


def test_temp_names_differ_per_file_and_per_process():
    one, other = writes.TempNames(), writes.TempNames()
    names = {one.next() for _ in range(1000)} | {other.next() for _ in range(1000)}
    assert len(names) == 2000


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
