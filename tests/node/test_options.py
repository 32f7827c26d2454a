"""What the node passes on to its services by default: its restreamer stays on this machine."""

from services.node.command import build_parser, service_argv

ARGS = ["--base-dir", "B", "--channel", "c", "--url", "http://127.0.0.1:1/master.m3u8"]


def restreamer_host(*extra: str) -> str:
    args = build_parser().parse_args([*ARGS, *extra])
    argv = service_argv(args, "host=placeholder", args.port)["restreamer"]
    return argv[argv.index("--host") + 1]


def test_the_restreamer_listens_on_this_machine_only_by_default():
    assert restreamer_host() == "127.0.0.1"


def test_host_makes_a_node_reachable_by_other_nodes():
    assert restreamer_host("--host", "0.0.0.0") == "0.0.0.0"
