"""A one-line progress bar on a terminal: seconds of the clip written, of its length.

Driven by ffmpeg's ``-progress`` reports (see ``progress_to`` in the cutting
package's ffmpeg module); redrawn at most ten times a second, in place.
"""

import time

WIDTH = 30
REDRAW_EVERY = 0.1


class ProgressBar:
    def __init__(self, total: float, stream, label: str = "cutting"):
        self.total = max(total, 1e-6)
        self.stream = stream
        self.label = label
        self.drawn = 0.0
        self.seconds = 0.0

    def update(self, seconds: float) -> None:
        self.seconds = min(max(seconds, self.seconds), self.total)
        now = time.monotonic()
        if now - self.drawn >= REDRAW_EVERY:
            self.drawn = now
            self._draw()

    def finish(self) -> None:
        self.seconds = self.total
        self._draw()
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self) -> None:
        share = self.seconds / self.total
        done = round(share * WIDTH)
        bar = "#" * done + "-" * (WIDTH - done)
        self.stream.write(
            f"\r{self.label} [{bar}] {self.seconds:.1f} s of {self.total:.1f} s {share:4.0%}"
        )
        self.stream.flush()
