"""Objective checks of a cut, as ../shared/TESTING.md describes them.

Each check returns what it found (a list of problems, frame indices, times) so
tests can assert on it and show it when it fails. Written independently of the
engine: nothing here imports services.cutting.
"""

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

SYNC = 0x47
PACKET = 188
BEEP_HZ = 4000  # sine frequency=1000 with beep_factor=4 (tests/media.py)
RATE = 48000


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, check=False)


def packets(path: Path) -> dict[str, list[tuple[Fraction, Fraction, Fraction]]]:
    """(pts, dts, duration) in seconds, file order, for the first video and audio stream."""
    out = run([
        "ffprobe", "-v", "error", "-show_entries",
        "stream=index,codec_type,time_base:packet=stream_index,pts,dts,duration",
        "-of", "json", str(path),
    ])  # fmt: skip
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    kinds, tbs = {}, {}
    for s in info["streams"]:
        if s["codec_type"] in ("video", "audio") and s["codec_type"] not in kinds.values():
            kinds[s["index"]] = s["codec_type"]
            tbs[s["index"]] = Fraction(s["time_base"])
    result: dict[str, list] = {"video": [], "audio": []}
    for p in info["packets"]:
        i = p["stream_index"]
        if i in kinds:
            tb = tbs[i]
            pts = int(p["pts"]) * tb
            dts = int(p.get("dts", p["pts"])) * tb
            result[kinds[i]].append((pts, dts, int(p.get("duration", 0)) * tb))
    return result


def dts_problems(pk: dict) -> list[str]:
    """Video DTS that does not strictly increase, or exceeds its PTS."""
    problems = []
    video = pk["video"]
    for i in range(1, len(video)):
        if video[i][1] <= video[i - 1][1]:
            problems.append(
                f"packet {i}: dts {float(video[i][1]):.6f} after {float(video[i - 1][1]):.6f}"
            )
    problems += [f"packet {i}: dts > pts" for i, (p, d, _) in enumerate(video) if d > p]
    return problems


def audio_joins(pk: dict) -> list[float]:
    """Gap (+) or overlap (-) in seconds between each audio packet and the next."""
    audio = pk["audio"]
    return [float(audio[i + 1][0] - (audio[i][0] + audio[i][2])) for i in range(len(audio) - 1)]


def cc_breaks(path: Path) -> list[str]:
    """MPEG-TS continuity-counter breaks, found by reading the packets (ISO 13818-1 §2.4.3.3)."""
    data = path.read_bytes()
    assert len(data) % PACKET == 0, f"{path} is {len(data)} bytes, not whole TS packets"
    arr = np.frombuffer(data, dtype=np.uint8).reshape(-1, PACKET)
    assert (arr[:, 0] == SYNC).all(), "lost sync"
    last: dict[int, int] = {}
    breaks = []
    for i, row in enumerate(arr):
        pid = ((int(row[1]) & 0x1F) << 8) | int(row[2])
        if pid == 0x1FFF:
            continue
        cc, payload = int(row[3]) & 0x0F, bool(row[3] & 0x10)
        disc = bool(row[3] & 0x20) and row[4] > 0 and bool(row[5] & 0x80)
        if pid in last and not disc:
            want = (last[pid] + 1) % 16 if payload else last[pid]
            if cc != want:
                breaks.append(f"packet {i} pid {pid:#x}: cc {cc}, expected {want}")
        last[pid] = cc
    return breaks


def ffprobe_cc_reports(path: Path) -> list[str]:
    out = run(["ffprobe", "-v", "debug", "-show_entries", "packet=pts", "-of", "csv", str(path)])
    text = out.stderr.decode(errors="replace")
    return sorted({line for line in text.splitlines() if "Continuity check failed" in line})


def decode_warnings(path: Path) -> str:
    """What ``ffmpeg -v warning -i CUT -f null -`` prints (must be nothing)."""
    out = run(["ffmpeg", "-nostdin", "-v", "warning", "-i", str(path), "-f", "null", "-"])
    return (
        out.stderr.decode(errors="replace") + ("" if out.returncode == 0 else " (failed)")
    ).strip()


def gray_frames(path: Path, size: str = "320x180") -> np.ndarray:
    """Every decoded frame as grey pixels, shape (frames, height*width)."""
    w, h = map(int, size.split("x"))
    out = run([
        "ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0",
        "-vf", f"scale={w}:{h},format=gray", "-fps_mode", "passthrough",
        "-f", "rawvideo", "-",
    ])  # fmt: skip
    assert out.returncode == 0, out.stderr
    return np.frombuffer(out.stdout, dtype=np.uint8).reshape(-1, w * h)


def match_frames(
    cut: np.ndarray, src: np.ndarray, expected_first: int, window: int = 4
) -> list[int]:
    """For each cut frame, the source frame nearest by mean squared error.

    Searches ``window`` frames either side of where it should be, so a cut that
    is off by a frame or drops one shows up as a wrong index.
    """
    found = []
    for j, frame in enumerate(cut):
        lo = max(0, expected_first + j - window)
        hi = min(len(src), expected_first + j + window + 1)
        errors = ((src[lo:hi].astype(np.int32) - frame.astype(np.int32)) ** 2).mean(axis=1)
        found.append(lo + int(np.argmin(errors)))
    return found


def clean(path: Path) -> dict:
    """Assert what every cut must be: it decodes without a warning, its DTS rise and
    its continuity counters run on. Returns its packets, for further checks."""
    assert decode_warnings(path) == ""
    pk = packets(path)
    assert dts_problems(pk) == []
    assert cc_breaks(path) == []
    return pk


def frames_in_order(path: Path, archive, expected: list[int]) -> None:
    """Assert the cut's frames are exactly the archive's source frames ``expected``, in order."""
    frames = gray_frames(path, archive.stream.size)
    assert len(frames) == len(expected)
    matched = [
        match_frames(frames[i : i + 1], archive.frames, k)[0] for i, k in enumerate(expected)
    ]
    assert matched == expected


def ssim(a: np.ndarray, b: np.ndarray, size: str = "320x180") -> float:
    """SSIM of two grey frames (8x8 windows, the usual constants for 8-bit)."""
    w, h = map(int, size.split("x"))
    x = a.reshape(h, w)[: h // 8 * 8, : w // 8 * 8].astype(np.float64)
    y = b.reshape(h, w)[: h // 8 * 8, : w // 8 * 8].astype(np.float64)

    def blocks(m):
        return m.reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2).reshape(-1, 64)

    bx, by = blocks(x), blocks(y)
    mx, my = bx.mean(1), by.mean(1)
    vx, vy = bx.var(1), by.var(1)
    cov = ((bx - mx[:, None]) * (by - my[:, None])).mean(1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


def beep_onsets(path: Path) -> list[float]:
    """Start times of the 4 kHz beeps, in seconds after the first video frame's PTS.

    Demodulates the decoded audio at 4 kHz, averages over 1 ms (48 samples) and
    takes each upward crossing of half the loudest beep, at sample resolution.
    The decoded samples are placed on the timeline from the first decoded audio
    frame's PTS (after the decoder drops any encoder priming an mp4 edit list marks).
    """
    pk = packets(path)
    first_video = min(p[0] for p in pk["video"])
    first_audio = first_audio_frame(path)
    out = run([
        "ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
        "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-",
    ])  # fmt: skip
    assert out.returncode == 0, out.stderr
    x = np.frombuffer(out.stdout, dtype=np.float32).astype(np.float64)
    t = np.arange(len(x)) / RATE
    z = x * np.exp(-2j * np.pi * BEEP_HZ * t)
    kernel = np.ones(48) / 48
    env = np.abs(np.convolve(z, kernel, mode="same"))
    level = env.max() / 2
    above = env > level
    onsets = []
    last = -RATE
    for i in np.nonzero(above[1:] & ~above[:-1])[0] + 1:
        if i - last > RATE // 2:  # one beep a second: ignore crossings within a beep
            onsets.append(float(first_audio - first_video) + i / RATE)
            last = i
    return onsets


def first_audio_frame(path: Path) -> Fraction:
    """PTS in seconds of the first decoded audio frame."""
    out = run([
        "ffprobe", "-v", "error", "-select_streams", "a:0", "-read_intervals", "%+#3",
        "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(path),
    ])  # fmt: skip
    assert out.returncode == 0, out.stderr
    return Fraction(out.stdout.decode().split()[0])


def concat_source(segments: list[Path], out: Path, fmp4: bool) -> Path:
    """The whole source stream as one file (TS: the bytes joined; fMP4: one init).

    fMP4 segment indexes (sidx) are left out: each points into its own file only.
    """
    with open(out, "wb") as f:
        for i, seg in enumerate(segments):
            data = seg.read_bytes()
            if not fmp4:
                f.write(data)
                continue
            pos = 0
            while pos < len(data):
                size = int.from_bytes(data[pos : pos + 4], "big")
                kind = data[pos + 4 : pos + 8]
                if kind != b"sidx" and (i == 0 or kind not in (b"ftyp", b"moov")):
                    f.write(data[pos : pos + size])
                pos += size
    return out
