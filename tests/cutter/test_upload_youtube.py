"""The YouTube backend against a local server speaking the resumable upload protocol."""

import json
import os

import pytest

from services.cutter.upload import UploadError, UploadUnknown, VideoMeta, YouTubeLocation
from services.cutter.upload import youtube as youtube_module

from .fake_youtube import CHUNK_UNIT, FakeYouTube


@pytest.fixture
def yt():
    server = FakeYouTube()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """Resume at once: the tests are about what is sent, not about waiting."""
    monkeypatch.setattr(youtube_module.backoff, "delay", lambda *a, **k: 0)


def location(tmp_path, yt, **extra):
    path = tmp_path / "yt.json"
    path.write_text(json.dumps(yt.config(**extra)))
    return YouTubeLocation("yt", str(path))


def payload(size):
    return os.urandom(size)


def pieces(data, size=100_000):
    for i in range(0, len(data), size):
        yield data[i : i + size]


META = VideoMeta("A title", "A description", ("tag1",), "ts")


def test_upload_in_chunks_with_metadata(tmp_path, yt):
    loc = location(tmp_path, yt, privacy="unlisted", category_id="24", language="en", tags=["m"])
    data = payload(3 * CHUNK_UNIT + 12345)
    order = []
    result = loc.upload(META, pieces(data), lambda: order.append(yt.puts))
    video = yt.videos[result.video_id]
    assert video["data"] == data
    assert video["type"] == "video/mp2t"
    assert video["snippet"] == {
        "title": "A title",
        "description": "A description",
        "tags": ["tag1", "m"],  # the event's, then the location's
        "categoryId": "24",
        "defaultLanguage": "en",
        "defaultAudioLanguage": "en",
    }
    assert video["status"]["privacyStatus"] == "unlisted"
    assert order == [3]  # finalize came after three full chunks, before the last PUT
    assert yt.puts == 4
    assert result.transcoding is True
    assert result.link == f"{yt.url}/watch?v={result.video_id}"


def test_exact_multiple_keeps_a_byte_for_the_last_put(tmp_path, yt):
    data = payload(2 * CHUNK_UNIT)
    result = location(tmp_path, yt).upload(META, pieces(data), lambda: None)
    assert yt.videos[result.video_id]["data"] == data


def test_resumes_after_a_connection_dropped_mid_chunk(tmp_path, yt):
    data = payload(3 * CHUNK_UNIT + 5)
    loc = location(tmp_path, yt, chunk_size=2 * CHUNK_UNIT)
    yt.drop_after = CHUNK_UNIT + 1000  # the first chunk's PUT dies past one persisted unit
    result = loc.upload(META, pieces(data), lambda: None)
    assert yt.videos[result.video_id]["data"] == data
    # PUTs: dropped, the rest of chunk one (after asking), the last chunk.
    assert yt.puts == 3


def test_resumes_after_the_last_chunk_dropped(tmp_path, yt):
    data = payload(CHUNK_UNIT + 77)
    loc = location(tmp_path, yt)
    finalized = []

    def finalize():
        finalized.append(1)
        yt.drop_after = 50  # the last PUT dies before anything of it is persisted

    result = loc.upload(META, pieces(data), finalize)
    assert finalized == [1]
    assert yt.videos[result.video_id]["data"] == data


def test_completion_whose_answer_was_lost_is_found_by_asking(tmp_path, yt):
    data = payload(1000)
    loc = location(tmp_path, yt)
    yt.drop_completion = True
    result = loc.upload(META, pieces(data), lambda: None)
    assert list(yt.videos) == [result.video_id]  # one video, not two
    assert yt.videos[result.video_id]["data"] == data


def test_server_errors_are_resumed(tmp_path, yt):
    data = payload(CHUNK_UNIT + 1)
    loc = location(tmp_path, yt)
    loc.upload(META, pieces(data), lambda: setattr(yt, "fail_next", (503, "backendError")))
    assert len(yt.videos) == 1


def test_expired_token_is_refreshed(tmp_path, yt):
    data = payload(2 * CHUNK_UNIT + 1)
    loc = location(tmp_path, yt)
    loc.upload(META, pieces(data), yt.expire_tokens)
    assert yt.token_grants == 2
    assert len(yt.videos) == 1


def test_bad_refresh_token_is_not_retryable(tmp_path, yt):
    loc = location(tmp_path, yt, refresh_token="revoked")
    with pytest.raises(UploadError, match="invalid_grant") as info:
        loc.upload(META, pieces(b"x"), lambda: None)
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (400, "invalidTitle", False),
        (403, "forbidden", False),
        (403, "quotaExceeded", True),
        (429, "rateLimitExceeded", True),
    ],
)
def test_error_classes(tmp_path, yt, status, reason, retryable):
    yt.fail_next = (status, reason)
    with pytest.raises(UploadError, match=reason) as info:
        location(tmp_path, yt).upload(META, pieces(b"x" * 10), lambda: None)
    assert info.value.retryable is retryable
    assert yt.videos == {}


def test_rejected_last_chunk_is_a_certain_failure(tmp_path, yt):
    loc = location(tmp_path, yt)
    with pytest.raises(UploadError, match="invalidVideo") as info:
        loc.upload(META, pieces(b"x" * 10), lambda: setattr(yt, "fail_next", (400, "invalidVideo")))
    assert info.value.retryable is False
    assert yt.videos == {}


def test_last_chunk_that_cannot_be_confirmed_is_unknown(tmp_path, yt):
    loc = location(tmp_path, yt)

    def server_goes_away():
        yt.down = True

    with pytest.raises(UploadUnknown, match="may exist"):
        loc.upload(META, pieces(b"x" * 10), server_goes_away)


def test_unreachable_server_is_retryable(tmp_path, yt):
    loc = location(tmp_path, yt)
    yt.down = True
    with pytest.raises(UploadError, match="cannot reach") as info:
        loc.upload(META, pieces(b"x"), lambda: None)
    assert info.value.retryable is True


def test_finalize_refusal_abandons_the_session(tmp_path, yt):
    class Stolen(Exception):
        pass

    def refuse():
        raise Stolen

    with pytest.raises(Stolen):
        location(tmp_path, yt).upload(META, pieces(payload(CHUNK_UNIT + 1)), refuse)
    assert yt.videos == {}


def test_empty_cut_is_refused(tmp_path, yt):
    with pytest.raises(UploadError, match="no bytes") as info:
        location(tmp_path, yt).upload(META, iter([]), lambda: None)
    assert info.value.retryable is False


def test_check_ready(tmp_path, yt):
    loc = location(tmp_path, yt)
    a = loc.upload(META, pieces(b"a"), lambda: None).video_id
    b = loc.upload(META, pieces(b"b"), lambda: None).video_id
    c = loc.upload(META, pieces(b"c"), lambda: None).video_id
    assert loc.check_ready([a, b, c]) == {a: None, b: None, c: None}
    yt.process(a)
    yt.process(b, "rejected")
    del yt.videos[c]
    status = loc.check_ready([a, b, c])
    assert status[a] == ""
    assert "rejected" in status[b]
    assert "no longer lists" in status[c]


def test_nothing_is_cut_off_at_upload(tmp_path, yt):
    """The location sends what it is given: YouTube refuses a title past its limit, and the
    edit checks and the cutter are what keep one from getting here."""
    with pytest.raises(UploadError, match="invalidTitle") as info:
        location(tmp_path, yt).upload(VideoMeta("t" * 101), pieces(b"x"), lambda: None)
    assert info.value.retryable is False
    assert yt.videos == {}


@pytest.mark.parametrize(
    ("most", "public", "status"),
    [
        pytest.param(None, True, "public", id="public by default"),
        pytest.param(None, False, "unlisted", id="the event unlisted"),
        pytest.param("unlisted", True, "unlisted", id="a location at most unlisted"),
        pytest.param("public", False, "unlisted", id="a public location, the event unlisted"),
        pytest.param("private", True, "private", id="a private location"),
    ],
)
def test_privacy_is_the_event_s_within_the_location_s(tmp_path, yt, most, public, status):
    extra = {} if most is None else {"privacy": most}
    meta = VideoMeta("t", public=public)
    result = location(tmp_path, yt, **extra).upload(meta, pieces(b"x"), lambda: None)
    assert yt.videos[result.video_id]["status"]["privacyStatus"] == status
