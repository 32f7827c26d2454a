"""Folded stacks (``a;b;c 12.5`` per line), the input format of flamegraph.pl and friends."""


def format_value(seconds: float) -> str:
    """Seconds with microsecond precision and no trailing zeros."""
    text = f"{seconds:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def render(stacks: dict[str, float]) -> str:
    """One line per stack, sorted by stack so runs can be diffed."""
    return "".join(f"{stack} {format_value(stacks[stack])}\n" for stack in sorted(stacks))
