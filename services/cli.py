"""The ``fastseg`` console script: one subcommand per service or tool.

Each subcommand is a module with ``main(argv)``; ``python -m services.NAME`` runs
the same code. gevent patches the standard library here, before the service
module (and whatever it imports) is loaded.
"""

import importlib
import sys
from typing import NamedTuple


class Command(NamedTuple):
    module: str
    help: str  # one line, for `fastseg --help`
    node: bool = False  # a service `fastseg node` runs (services/node/command.py says when)


# The one list of commands: `fastseg NAME` runs MODULE.main; a node runs the services.
COMMANDS = {
    "node": Command("services.node", "every service in one process"),
    "downloader": Command(
        "services.downloader", "record a live HLS stream to segment files", node=True
    ),
    "restreamer": Command(
        "services.restreamer", "serve segments, playlists and cuts over HTTP", node=True
    ),
    "backfiller": Command(
        "services.backfiller", "fetch segments that peers have and we lack", node=True
    ),
    "chat-archiver": Command(
        "services.chat_archiver", "record a Twitch channel's chat and merge copies", node=True
    ),
    "chat": Command("services.chat", "list the moments where a channel's recorded chat got busy"),
    "cutter": Command("services.cutter", "cut and upload edited events", node=True),
    "janitor": Command("services.janitor", "turn orphaned temp segments into partials", node=True),
    "events": Command("services.events", "operator commands for the events table"),
    "audit": Command("services.audit", "who changed events, locations and nodes since a time"),
    "db": Command("services.backup", "back up the database to a file, or restore it"),
    "sheetsync": Command(
        "services.sheetsync", "sync events with a team's Google spreadsheet", node=True
    ),
    "cut": Command("services.cut", "cut one clip from the archive to a file"),
    "coverage": Command("services.coverage", "summarise a segment tree: hours, segments, holes"),
    "tombstone": Command(
        "services.tombstone", "hide segment files (STEM.tombstone beside STEM.ts)"
    ),
    "templates": Command("services.templates", "manage the thumbnail templates editors pick from"),
    "demo": Command("services.demo", "record, serve and cut a live test stream (make run)"),
}


def usage() -> str:
    lines = ["usage: fastseg COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<13} {command.help}" for name, command in COMMANDS.items()]
    lines += ["", "Run 'fastseg COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"fastseg: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    from services.runtime.patching import patch_all  # noqa: PLC0415 - before the service imports

    patch_all()
    module = importlib.import_module(COMMANDS[name].module)
    return module.main(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
