"""What a downloader wrote: every file under BASE, parsed as a segment."""

import os
from pathlib import Path

from fastseg import parse_segment_path


def archive(base: Path) -> list:
    """Every file under BASE parsed as a segment (SegmentInfo), in path order."""
    found = []
    for dirpath, _, names in os.walk(base):
        for name in sorted(names):
            found.append(parse_segment_path(os.path.join(dirpath, name)))
    return found
