"""The error a failed cut raises."""


class CutError(Exception):
    """A cut could not be made; ``stderr`` holds what ffmpeg said (may be empty).

    Raised for ffmpeg failures, unreadable or unrecognised segments (:class:`Damaged`),
    and ranges with no video. Holes in a range raise :class:`fastseg.ContainsHoles` instead.
    """

    def __init__(self, message: str, stderr: str = "") -> None:
        self.message = message
        self.stderr = stderr
        text = message
        if stderr.strip():
            text = f"{message}\nffmpeg said:\n{stderr.strip()}"
        super().__init__(text)


class Damaged(CutError):
    """A segment ffmpeg cannot read (empty, truncated, not video): a hole for this cut.

    With ``allow_holes`` a cut goes on around it; without, this error names the
    file and how to hide it.
    """

    def __init__(self, path: str, reason: str, stderr: str = "") -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"segment {path!r} {reason}: hide it with 'fastseg tombstone {path}' "
            "and cut again, or allow holes to cut around it",
            stderr,
        )
