"""The ``cookieguard`` command line: its commands, its exit codes, its messages."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from typing import Any

import pytest

from cookieguard import cli
from cookieguard.cli import main

KOPANO = "tests.seed_registries:KOPANO"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "print the cookie policy of a registry" in out
    assert "call an app in-process under every consent state" in out


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage: cookieguard" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fmt", "start"),
    [
        ("html", "<!doctype html>"),
        ("fragment", '<section class="cookieguard-policy" lang="fr">'),
        ("md", "# Politique relative aux cookies"),
        ("json", "{"),
    ],
)
def test_policy_prints_each_format(
    capsys: pytest.CaptureFixture[str], fmt: str, start: str
) -> None:
    assert main(["policy", KOPANO, "--format", fmt, "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(start)
    assert "wp_kopano_shop_id" in out


def test_policy_json_is_the_documented_form(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", KOPANO, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1 and data["language"] == "en"
    assert [c["name"] for c in data["categories"]] == [
        "necessary",
        "kopano",
        "commercial",
        "not_required",
        "cookie_management",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["policy", "tests.seed_registries:GDPR_PLUGIN"], "is a str, not a cookieguard.Registry"),
        (["policy", "tests.nothing_here:registry"], "cannot import module 'tests.nothing_here'"),
        (["policy", KOPANO, "--lang", "xx"], "no policy messages in 'xx'; available: en"),
        (["policy", KOPANO, "--format", "pdf"], "invalid choice: 'pdf'"),
        (["policy"], "the following arguments are required: MODULE:REGISTRY"),
    ],
)
def test_policy_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_command_group_plugs_in_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = types.ModuleType("cookieguard_test_plugin")

    def hello(args: argparse.Namespace) -> int:
        print(f"hello {args.who}")
        return 1

    def add_parser(subparsers: Any) -> None:
        parser = subparsers.add_parser("hello", help="say hello")
        parser.add_argument("who")
        parser.set_defaults(handler=hello)

    plugin.add_parser = add_parser  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cookieguard_test_plugin", plugin)
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "cookieguard_test_plugin"))
    assert main(["hello", "world"]) == 1
    assert capsys.readouterr().out == "hello world\n"


def test_a_command_group_that_is_not_installed_is_left_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        cli, "COMMAND_MODULES", ("cookieguard.cli.policy", "cookieguard.cli.not_built")
    )
    assert main(["policy", KOPANO, "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Cookie policy")


def test_the_installed_command_runs() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "cookieguard.cli", "policy", KOPANO, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["revision"] == 1
    bad = subprocess.run(
        [sys.executable, "-m", "cookieguard.cli", "audit", "tests.seed_registries:KOPANO"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "cookieguard: error: tests.seed_registries:KOPANO is a Registry, not a WSGI or ASGI app"
    )
