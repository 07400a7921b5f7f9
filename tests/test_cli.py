"""The ``cookieguard`` command line: its commands, its exit codes, its messages."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc

from cookieguard import cli, consentlog
from cookieguard.cli import main
from cookieguard.cli.consents import open_store
from cookieguard.consentlog import ConsentStore

SEEDS = "tests.support.seed_registries"
KOPANO = f"{SEEDS}:KOPANO"


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
        (["policy", f"{SEEDS}:GDPR_PLUGIN"], "is a str, not a cookieguard.Registry"),
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
        [sys.executable, "-m", "cookieguard.cli", "audit", KOPANO],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        f"cookieguard: error: {KOPANO} is a Registry, not a WSGI or ASGI app"
    )


# -- the consent log: mistakes a new user makes ---------------------------------------


def usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one line a mistaken command prints, once it has exited with status 2."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("cookieguard: error: "), err
    return err


def consent_log(path: Path) -> str:
    url = f"sqlite:///{path}"
    ConsentStore(url).open()
    return url


@pytest.mark.parametrize(
    "action", [["show", "some-id"], ["export"], ["purge", "--older-than", "1y"]]
)
def test_a_missing_sqlite_log_is_an_error_and_no_file_is_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, action: list[str]
) -> None:
    missing = tmp_path / "typo" / "consentz.db"
    err = usage_error(capsys, ["consents", *action, "--db", f"sqlite:///{missing}"])
    assert f"no consent log at {missing}: no such file" in err
    assert list(tmp_path.iterdir()) == []


def test_a_relative_sqlite_path_is_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    err = usage_error(capsys, ["consents", "show", "some-id", "--db", "sqlite:///relative.db"])
    assert f"no consent log at {tmp_path / 'relative.db'}" in err
    assert "sqlite:///NAME is relative to the current directory" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("sqlite:/consent.db", "Could not parse SQLAlchemy URL"),
        ("nosuchdb://host/consent", "Can't load plugin: sqlalchemy.dialects:nosuchdb"),
        ("sqlite://", "give the consent log an SQLite file"),
    ],
)
def test_a_malformed_database_url_is_one_line(
    capsys: pytest.CaptureFixture[str], db: str, message: str
) -> None:
    assert message in usage_error(capsys, ["consents", "export", "--db", db])


def test_an_unreachable_postgresql_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("psycopg")
    db = "postgresql+psycopg://cookieguard:s3cret@127.0.0.1:1/cookieguard?connect_timeout=5"
    err = usage_error(capsys, ["consents", "show", "some-id", "--db", db])
    assert "cannot read consent log postgresql+psycopg://cookieguard:***@127.0.0.1:1/" in err
    assert "s3cret" not in err


def test_a_database_without_the_log_is_an_error_and_is_left_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    db.close()
    before = other.read_bytes()
    err = usage_error(capsys, ["consents", "show", "some-id", "--db", f"sqlite:///{other}"])
    assert "holds no consent log (no cookieguard_* tables): check --db and --table-prefix" in err
    assert other.read_bytes() == before and list(tmp_path.iterdir()) == [other]
    log = consent_log(tmp_path / "consent.db")
    err = usage_error(capsys, ["consents", "export", "--db", log, "--table-prefix", "mysite_"])
    assert "no mysite_* tables" in err


def test_a_log_of_a_newer_schema_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consentlog.store, "SCHEMA_VERSION", 2)  # where the store reads it
    log = consent_log(tmp_path / "consent.db")
    monkeypatch.setattr(consentlog.store, "SCHEMA_VERSION", 1)
    err = usage_error(capsys, ["consents", "show", "some-id", "--db", log])
    assert "has schema version 2, newer than the 1 this cookieguard understands" in err


def test_read_commands_open_the_log_read_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = consent_log(tmp_path / "consent.db")
    args = cli.build_parser().parse_args(["consents", "export", "--db", log])
    with open_store(args) as store:
        assert store.engine.url.query["mode"] == "ro"
        with pytest.raises(sqlalchemy.exc.OperationalError, match="readonly"):
            store.purge(timedelta(0))
    assert main(["consents", "export", "--db", log]) == 0
    assert main(["consents", "purge", "--db", log, "--older-than", "1y"]) == 0
    assert "purged 0 records" in capsys.readouterr().out


def test_an_output_file_that_cannot_be_written_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = consent_log(tmp_path / "consent.db")
    target = tmp_path / "no" / "such" / "dir.csv"
    err = usage_error(capsys, ["consents", "export", "--db", log, "--output", str(target)])
    assert f"cannot write {target}: No such file or directory" in err


# -- the reference page ------------------------------------------------------------------


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, list[str]]:
    """Each command line (``audit``, ``consents show``...) and its options and arguments."""
    found: dict[str, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(commands(sub, f"{prefix} {name}".strip()))
    if prefix and prefix not in found:
        found[prefix] = [
            action.option_strings[0] if action.option_strings else str(action.metavar)
            for action in parser._actions
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        ]
    return found


def test_the_reference_page_documents_every_command_and_option() -> None:
    page = (Path(__file__).parent.parent / "docs" / "reference" / "cli.md").read_text()
    every = commands(cli.build_parser())
    assert {"policy", "audit", "consents show", "consents export", "consents purge"} <= set(every)
    for command, options in every.items():
        assert f"cookieguard {command} " in page, command
        for option in options:
            assert f"| `{option}" in page, f"{command} {option}"
