"""What the node passes on to its services by default: its restreamer stays on this machine."""

import socket

from services.node.command import advertised_url, build_parser, service_argv

ARGS = ["--base-dir", "B", "--channel", "c", "--url", "http://127.0.0.1:1/master.m3u8"]


def restreamer_host(*extra: str) -> str:
    args = build_parser().parse_args([*ARGS, *extra])
    argv = service_argv(args, "host=placeholder", args.port)["restreamer"]
    return argv[argv.index("--host") + 1]


def test_the_restreamer_listens_on_this_machine_only_by_default():
    assert restreamer_host() == "127.0.0.1"


def test_host_makes_a_node_reachable_by_other_nodes():
    assert restreamer_host("--host", "0.0.0.0") == "0.0.0.0"


def test_a_node_advertises_the_address_it_listens_on():
    assert advertised_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert advertised_url("::1", 8001) == "http://[::1]:8001"
    assert advertised_url("0.0.0.0", 8000) == f"http://{socket.gethostname()}:8000"


def test_tls_goes_to_the_restreamer_and_peer_checks_to_the_backfiller():
    args = build_parser().parse_args(
        [*ARGS, "--tls-cert", "c.pem", "--tls-key", "k.pem", "--peer-ca", "team.pem"]
    )
    argv = service_argv(args, "host=placeholder", args.port)
    restreamer = argv["restreamer"]
    assert restreamer[restreamer.index("--tls-cert") + 1] == "c.pem"
    assert restreamer[restreamer.index("--tls-key") + 1] == "k.pem"
    backfiller = argv["backfiller"]
    assert backfiller[backfiller.index("--peer-ca") + 1] == "team.pem"
    insecure = build_parser().parse_args([*ARGS, "--insecure-peers"])
    assert "--insecure-peers" in service_argv(insecure, "host=placeholder", 8000)["backfiller"]
    plain = service_argv(build_parser().parse_args(ARGS), "host=placeholder", 8000)
    assert "--tls-cert" not in plain["restreamer"]
    assert "--insecure-peers" not in plain["backfiller"]
    assert "--peer-ca" not in plain["backfiller"]


def test_a_node_serving_https_advertises_https():
    assert advertised_url("127.0.0.1", 8443, "https") == "https://127.0.0.1:8443"
