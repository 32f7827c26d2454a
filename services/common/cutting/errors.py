"""The error a failed cut raises."""


class CutError(Exception):
    """A cut could not be made; ``stderr`` holds what ffmpeg said (may be empty).

    Raised for ffmpeg failures, unreadable or unrecognised segments, and ranges
    with no video. Holes in a range raise :class:`fastseg.ContainsHoles` instead.
    """

    def __init__(self, message: str, stderr: str = "") -> None:
        self.message = message
        self.stderr = stderr
        text = message
        if stderr.strip():
            text = f"{message}\nffmpeg said:\n{stderr.strip()}"
        super().__init__(text)
