"""The picture routes under the restreamer fuzzer's strategy: never a 5xx, nothing outside BASE.

The archive's segments are sparse zeros, not video, so a request that gets as far
as ffmpeg must come back as a 4xx too.
"""

from urllib.parse import quote

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from tests.restreamer.test_fuzz import FUZZ, PARTS, SECRET, TIMES, fuzz_client  # noqa: F401

PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": TIMES,
        "start": TIMES,
        "end": TIMES,
        "width": st.sampled_from(["", "0", "16", "320", "1921", "-5", "1e3", "wide", "٣٢٠"]),
        "size": st.sampled_from(["", "64x8", "0x0", "4097x10", "10x", "x", "1024x64x2", "٣x٣"]),
        "color": st.sampled_from(["", "ff0000", "#00ff00", "red", "fffffff", "%"]),
        "quality": PARTS,
        "template": st.sampled_from(["", "frame", "../x", "a b", "%00"]),
        "crop": st.sampled_from(["", "0,0,10,10", "1,2", "-1,0,5,5", "a,b,c,d", "0,0,99999,5"]),
        "location": st.sampled_from(["", "0,0,320,180", "5,5,1,1", "٣,0,1,1"]),
    },
)
ROUTES = st.sampled_from(
    ["/coverage/{}.svg", "/coverage/{}.json", "/frame/{}/{}.png", "/thumbnail/{}/{}.png",
     "/waveform/{}/{}.png"]
)  # fmt: skip


@st.composite
def requests_(draw):
    route = draw(ROUTES)
    parts = [draw(PARTS) for _ in range(route.count("{}"))]
    safe = "/.%" if draw(st.booleans()) else ""
    path = route.format(*(quote(p, safe=safe, errors="surrogatepass") for p in parts))
    params = {k: v for k, v in draw(PARAMS).items() if v is not None}
    query = "&".join(f"{quote(k)}={quote(v, errors='surrogatepass')}" for k, v in params.items())
    return f"{path}?{query}" if query else path


@settings(FUZZ, max_examples=200)
@given(target=requests_())
def test_fuzz_picture_routes(fuzz_client, target):  # noqa: F811 - the imported fixture
    assume(not target.startswith("//"))
    response = fuzz_client.get(target)
    body = response.get_data()
    response.close()
    event(f"status {response.status_code}")
    assert response.status_code < 500, (target, body)
    assert SECRET not in body, target
    if response.status_code >= 400:
        assert body.count(b"\n") == 1, body  # one line of reason
