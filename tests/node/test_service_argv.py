"""What ``fastseg node`` passes to its backfiller, parsed by the backfiller's own parser."""

from services.backfiller.command import build_parser as backfiller_parser
from services.node.command import build_parser, service_argv


def test_peers_trusted_with_tombstones_are_passed_to_the_backfiller(tmp_path):
    args = build_parser().parse_args([
        "--channel", "ch", "--url", "http://127.0.0.1:1/master.m3u8",
        "--base-dir", str(tmp_path),
        "--trust-tombstones-from", "node2", "--trust-tombstones-from", "http://node3:8000",
    ])  # fmt: skip
    argv = service_argv(args, "host=placeholder", 8000)["backfiller"]
    parsed = backfiller_parser().parse_args(argv)
    assert parsed.trust_tombstones_from == ["node2", "http://node3:8000"]
    none = build_parser().parse_args(["--channel", "ch", "--twitch", "--base-dir", str(tmp_path)])
    untrusting = service_argv(none, "host=placeholder", 8000)["backfiller"]
    assert "--trust-tombstones-from" not in untrusting


def test_the_free_disk_floor_is_passed_to_the_backfiller_and_checked_by_its_parser(tmp_path):
    base = ["--channel", "ch", "--twitch", "--base-dir", str(tmp_path)]
    args = build_parser().parse_args([*base, "--min-free-mb", "100"])
    parsed = backfiller_parser().parse_args(service_argv(args, "h", 8000)["backfiller"])
    assert parsed.min_free_mb == 100
    default = build_parser().parse_args(base)
    assert "--min-free-mb" not in service_argv(default, "h", 8000)["backfiller"]


def test_chat_runs_the_chat_archiver_only_when_asked(tmp_path):
    from services.chat_archiver.command import build_parser as chat_parser  # noqa: PLC0415

    common = ["--channel", "ch", "--twitch", "--base-dir", str(tmp_path), "--name", "n1"]
    plain = service_argv(build_parser().parse_args(common), "host=placeholder", 8000)
    assert "chat-archiver" not in plain
    args = build_parser().parse_args([*common, "--chat", "--chat-irc", "irc://127.0.0.1:7000"])
    argv = service_argv(args, "host=placeholder", 8000)["chat-archiver"]
    parsed = chat_parser().parse_args(argv)
    assert (parsed.channel, parsed.name, parsed.irc) == ("ch", "n1", "irc://127.0.0.1:7000")
    assert parsed.base_dir == str(tmp_path)


def test_notices_go_to_the_downloader_backfiller_and_cutter_each_parsing_them(tmp_path):
    from services.cutter.command import build_parser as cutter_parser  # noqa: PLC0415
    from services.downloader.command import build_parser as downloader_parser  # noqa: PLC0415

    common = ["--channel", "ch", "--twitch", "--base-dir", str(tmp_path), "--name", "n1",
              "--location", f"clips=local:{tmp_path}"]  # fmt: skip
    hooks = ["--notify", "https://discord.com/api/webhooks/1/t", "--notify", "http://h.example/x"]
    args = build_parser().parse_args([*common, *hooks, "--notify-peer-down-after", "90"])
    argv = service_argv(args, "host=placeholder", 8000)
    for name, parser in (("downloader", downloader_parser), ("backfiller", backfiller_parser),
                         ("cutter", cutter_parser)):  # fmt: skip
        parsed = parser().parse_args(argv[name])
        assert parsed.notify == [hooks[1], hooks[3]], name
        assert (parsed.notify_format, parsed.notify_name) == ("auto", "n1"), name
    assert backfiller_parser().parse_args(argv["backfiller"]).notify_peer_down_after == 90
    quiet = service_argv(build_parser().parse_args(common), "host=placeholder", 8000)
    assert not any("--notify" in a for argv in quiet.values() for a in argv)


def test_a_notify_value_that_is_no_url_is_refused(tmp_path, capsys):
    import pytest  # noqa: PLC0415

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--channel", "ch", "--twitch", "--base-dir", str(tmp_path),
                                   "--notify", "discord.com/api/webhooks/1"])  # fmt: skip
    assert exit_.value.code == 2
    assert "expected a webhook's http:// or https:// URL" in capsys.readouterr().err


def test_the_node_runs_the_services_the_command_table_marks(tmp_path):
    from services.cli import COMMANDS  # noqa: PLC0415

    every = build_parser().parse_args([
        "--channel", "ch", "--twitch", "--base-dir", str(tmp_path), "--chat",
        "--location", f"clips=local:{tmp_path}", "--sheet-sync", str(tmp_path / "sync.json"),
    ])  # fmt: skip
    started = set(service_argv(every, "host=placeholder", 8000))
    assert started == {name for name, command in COMMANDS.items() if command.node}


def test_publishing_goes_to_the_restreamer_and_cutter_and_a_bad_file_is_refused(tmp_path, capsys):
    import json  # noqa: PLC0415

    import pytest  # noqa: PLC0415

    from services.cutter import command as cutter  # noqa: PLC0415
    from services.db.publishing import Conventions  # noqa: PLC0415
    from services.node.command import options  # noqa: PLC0415
    from services.restreamer import command as restreamer  # noqa: PLC0415

    conventions = tmp_path / "publishing.json"
    conventions.write_text(json.dumps({"title_prefix": "DB - ", "tags": ["DB"]}))
    common = ["--channel", "ch", "--twitch", "--base-dir", str(tmp_path), "--name", "n1",
              "--location", f"clips=local:{tmp_path}"]  # fmt: skip
    args = build_parser().parse_args([*common, "--publishing", str(conventions)])
    argv = service_argv(args, "host=placeholder", 8000)
    wanted = Conventions(title_prefix="DB - ", tags=("DB",))
    parser = cutter.build_parser()
    assert cutter.options(parser, parser.parse_args(argv["cutter"])).conventions == wanted
    parser = restreamer.build_parser()
    served = restreamer.options(parser, parser.parse_args(argv["restreamer"]))
    assert served.editor["PUBLISHING"] == wanted
    conventions.write_text(json.dumps({"title_prefix": "p" * 101}))
    node = build_parser()
    with pytest.raises(SystemExit) as exit_:
        options(node, node.parse_args([*common, "--publishing", str(conventions)]))
    assert exit_.value.code == 2
    assert "the title is 102 characters with the prefix" in capsys.readouterr().err
