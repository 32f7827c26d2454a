"""The service contract (services/runtime/contract.py): one shape for every service a node runs."""

import importlib

import gevent.event
import prometheus_client
import pytest

from services.cli import COMMANDS
from services.runtime import contract

SERVICES = sorted(name for name, command in COMMANDS.items() if command.node)


def command_module(name: str):
    return importlib.import_module(f"{COMMANDS[name].module}.command")


def test_the_node_runs_the_services_of_the_table():
    assert SERVICES == sorted(
        [
            "backfiller",
            "chat-archiver",
            "cutter",
            "downloader",
            "janitor",
            "restreamer",
            "sheetsync",
        ]
    )


@pytest.mark.parametrize("name", [*SERVICES, "node"])
def test_every_service_has_the_contract(name):
    module = command_module(name)
    assert isinstance(module, contract.Service)
    assert module.build_parser().prog == f"fastseg {name}"


def test_a_refusal_by_argparse_carries_the_services_message(tmp_path):
    janitor = command_module("janitor")
    with pytest.raises(contract.Refused, match="expected a positive number of seconds, got '0'"):
        contract.parse_options(janitor, ["--base-dir", str(tmp_path), "--interval", "0"])


def test_a_refusal_by_the_services_own_checks_carries_its_message(tmp_path):
    downloader = command_module("downloader")
    argv = ["c", "--base-dir", str(tmp_path), "--url", "http://127.0.0.1:1/m.m3u8"]
    with pytest.raises(contract.Refused, match="--qualities ',' names no quality"):
        contract.parse_options(downloader, [*argv, "--qualities", ","])
    built = contract.parse_options(downloader, [*argv, "--qualities", "source, 480p"])
    assert built.qualities == ["source", "480p"]
    assert built.base_dir == str(tmp_path)


def test_run_declares_its_metrics_in_the_registry_it_is_given(tmp_path):
    janitor = command_module("janitor")
    options = contract.parse_options(janitor, ["--base-dir", str(tmp_path)])
    registry = prometheus_client.CollectorRegistry()
    assert janitor.run(options, gevent.event.Event(), registry) == 0  # one sweep, no --interval
    assert registry.get_sample_value("fastseg_janitor_sweeps_total") == 1
    assert janitor.run(options, gevent.event.Event(), registry) == 0  # run again: same metrics
    assert registry.get_sample_value("fastseg_janitor_sweeps_total") == 2


def test_own_stop_follows_the_shared_event_but_does_not_set_it():
    shared = gevent.event.Event()
    with contract.own_stop(shared) as own:
        own.set()  # one service ending by itself
        assert not shared.is_set()  # leaves the others running
    with contract.own_stop(shared) as own:
        shared.set()
        assert own.wait(5)
    with contract.own_stop(shared) as own:  # a service started after the stop
        assert own.is_set()
