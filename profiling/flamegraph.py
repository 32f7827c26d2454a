"""``python -m profiling.flamegraph``: a flamegraph of where fastseg nodes spend CPU time.

Reads the stack sampler's counters from one or more nodes' ``/metrics`` (what they
counted since they started) or from a Prometheus server (how much they grew over
``--range``), merges them, and writes any of: an interactive SVG (``-o``), folded
stacks (``--folded``) and a speedscope profile (``--speedscope``). A source that
cannot be read, or holds no sampler data, ends the run with a one-line error.

    python -m profiling.flamegraph --url http://node1:8001/metrics \\
        --url http://node2:8001/metrics -o flame.svg --folded flame.txt
    python -m profiling.flamegraph --prometheus http://prom:9090 --range 1h \\
        --filter 'get_best_segments' -o flame.svg --speedscope flame.json
    python -m profiling.flamegraph --url https://node1/metrics --peer-ca team-ca.pem -o f.svg
"""

import argparse
import logging
import re
import sys

from fastseg import peer_tls
from profiling import collect
from profiling.renderers import folded, speedscope, svg

logger = logging.getLogger(__name__)


def _regex(text: str) -> "re.Pattern[str]":
    try:
        return re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(
            f"--filter {text!r} is not a regular expression: {e}"
        ) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"--timeout must be a positive number of seconds, got {text!r}"
        )
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m profiling.flamegraph",
        description="Merge sampled stacks from fastseg nodes into a flamegraph.",
    )
    p.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="a node's /metrics URL (repeat for several nodes)",
    )
    p.add_argument("--prometheus", metavar="URL", help="a Prometheus server's base URL")
    p.add_argument(
        "--range",
        dest="range_",
        default="1h",
        metavar="DURATION",
        help="with --prometheus: how far back to count, e.g. 15m, 1h, 2d (default: 1h)",
    )
    p.add_argument("--filter", type=_regex, metavar="REGEX", help="keep only stacks matching REGEX")
    p.add_argument("-o", "--output", metavar="SVG", help="write the interactive SVG here")
    p.add_argument("--folded", metavar="FILE", help="write folded stacks (a;b;c 12.5) here")
    p.add_argument("--speedscope", metavar="JSON", help="write a speedscope profile here")
    p.add_argument("--title", default="fastseg CPU flame graph", help="the SVG's title")
    p.add_argument("--timeout", type=_seconds, default=10.0, help="seconds to wait for each source")
    peer_tls.add_arguments(p)  # --peer-ca, --insecure-peers: for https:// nodes
    return p


def gather(args: argparse.Namespace) -> dict[str, float]:
    """Read, merge and filter every source; raises collect.CollectError."""
    tls = getattr(args, "tls", None)
    sources = [collect.from_metrics_url(url, args.timeout, tls) for url in args.url]
    if args.prometheus:
        sources.append(collect.from_prometheus(args.prometheus, args.range_, args.timeout))
    stacks = collect.merge(*sources)
    if args.filter is not None:
        stacks = collect.keep_matching(stacks, args.filter)
        if not stacks:
            raise collect.CollectError(f"no sampled stack matches --filter {args.filter.pattern!r}")
    if sum(stacks.values()) <= 0:
        raise collect.CollectError("the sampler counters are all 0: nothing was sampled yet")
    return stacks


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise collect.CollectError(f"cannot write {path!r}: {e.strerror}") from e


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.url and not args.prometheus:
        p.error("give at least one --url or --prometheus to read samples from")
    if not (args.output or args.folded or args.speedscope):
        p.error("give at least one output: -o SVG, --folded FILE or --speedscope JSON")
    args.tls = peer_tls.context_from_args(args, p)
    peer_tls.warn_if_insecure(args)
    try:
        stacks = gather(args)
        if args.folded:
            _write(args.folded, folded.render(stacks))
        if args.output:
            _write(args.output, svg.render(stacks, title=args.title))
        if args.speedscope:
            _write(args.speedscope, speedscope.render(stacks, name=args.title))
    except collect.CollectError as e:
        print(f"flamegraph: error: {e}", file=sys.stderr)
        return 1
    total = sum(stacks.values())
    print(f"flamegraph: {len(stacks)} stacks, {total:.6g} s sampled", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
