"""Every command's ``--help``: it runs cleanly, and it tells an operator what they need.

The subprocess tests run with ``-W error``: a warning at start-up (gevent patching
ssl after something imported it, a deprecation) fails them.
"""

import argparse
import importlib
import os
import subprocess
import sys

import pytest

from services.archive import times
from services.cli import COMMANDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = sorted({command.module for command in COMMANDS.values()})
TOOLS = ("cut", "coverage")  # one-shot commands: no metrics server, no stack sampler
SERVICE_ONLY = ("--metrics-port", "--stack-sampler", "--stack-sampler-interval")


def run_python(*args):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    env.pop("FASTSEG_STACK_SAMPLER", None)
    return subprocess.run(
        [sys.executable, "-W", "error", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_help(done):
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("usage: ")


def test_the_warning_check_catches_late_patching():
    """The harness itself: ssl imported before gevent patches is an error under -W error."""
    done = run_python("-c", "import requests; from gevent import monkey; monkey.patch_all()")
    assert done.returncode != 0
    assert "MonkeyPatchWarning" in done.stderr


@pytest.mark.parametrize("module", [*MODULES, "services.cli"])
def test_python_m_help_is_clean(module):
    assert_clean_help(run_python("-m", module, "--help"))


@pytest.mark.parametrize("command", [*COMMANDS, "events add", "events edit"])
def test_fastseg_subcommand_help_is_clean(command):
    assert_clean_help(run_python("-m", "services.cli", *command.split(), "--help"))


class _Parsed(Exception):
    """Raised in place of parsing, carrying the parser a command built."""


def parsers(command: str) -> list[tuple[str, argparse.ArgumentParser]]:
    """The parser ``fastseg COMMAND`` builds, and those of its subcommands."""
    original = argparse.ArgumentParser.parse_args

    def grab(self, args=None, namespace=None):
        raise _Parsed(self)

    argparse.ArgumentParser.parse_args = grab
    try:
        importlib.import_module(COMMANDS[command].module).main(["--help"])
    except _Parsed as parsed:
        top = parsed.args[0]
    else:
        pytest.fail(f"fastseg {command} never parsed its arguments")
    finally:
        argparse.ArgumentParser.parse_args = original
    found = [(command, top)]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += [(f"{command} {name}", p) for name, p in action.choices.items()]
    return found


ALL_PARSERS = [pair for command in COMMANDS for pair in parsers(command)]


@pytest.mark.parametrize(("label", "parser"), ALL_PARSERS, ids=[p[0] for p in ALL_PARSERS])
def test_every_option_is_described_and_shows_its_default(label, parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"fastseg {label}: {name} has no help"
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in action.help, f"fastseg {label}: {name} hides its default"


@pytest.mark.parametrize("command", TOOLS)
def test_tools_have_no_service_only_options(command):
    [(_, parser)] = parsers(command)
    options = {o for action in parser._actions for o in action.option_strings}
    assert not options & set(SERVICE_ONLY)
    assert "--log-level" in options


@pytest.mark.parametrize("label", ["cut", "events add", "events edit"])
def test_commands_taking_times_say_what_a_time_looks_like(label):
    [parser] = [p for name, p in ALL_PARSERS if name == label]
    text = " ".join(parser.format_help().split())  # undo the wrapping
    assert times.HELP in text
