"""speedscope's file format: one "sampled" profile, weights in seconds.

Open the output at https://www.speedscope.app or with the ``speedscope`` CLI.
Frames written ``function(module)`` become ``name=function, file=module``.
"""

import json
import re

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
FRAME = re.compile(r"(?P<name>.*)\((?P<file>[^()]*)\)")


def _frame(text: str) -> dict[str, str]:
    match = FRAME.fullmatch(text)
    if match and match["name"]:
        return {"name": match["name"], "file": match["file"]}
    return {"name": text}


def render(stacks: dict[str, float], name: str = "fastseg stack samples") -> str:
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}
    samples, weights = [], []
    for stack in sorted(stacks):
        sample = []
        for frame in stack.split(";"):
            if frame not in index:
                index[frame] = len(frames)
                frames.append(_frame(frame))
            sample.append(index[frame])
        samples.append(sample)
        weights.append(stacks[stack])
    document = {
        "$schema": SCHEMA,
        "exporter": "fastseg profiling.flamegraph",
        "name": name,
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "seconds",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
    }
    return json.dumps(document, indent=1)
