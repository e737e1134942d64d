"""integrations list|register|delete as a user runs them, against --sandbox and sandbox serve."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.cli import REMOTES, remote

BIG = 2**62  # the sandbox hands out ids above this: a double would corrupt them


@pytest.mark.parametrize("kind", REMOTES)
def test_integrations_register_list_delete(kind: str, tmp_path: Path) -> None:
    """Register prints the exact int64 id, list shows it, a second is refused, delete polls."""
    with remote(kind, tmp_path) as gong:
        empty = gong.ldjfix("integrations", "list", "--json")
        assert empty.returncode == 0 and orjson.loads(empty.stdout) == {"integrations": []}
        made = gong.ldjfix(
            "integrations", "register", "--name", "ACME", "--owner-email", "o@acme.com"
        )
        assert made.returncode == 0, made.stderr
        new_id = int(made.stdout.strip())
        assert new_id > BIG  # printed exactly: the listed JSON id below is the same int
        listed = gong.ldjfix("integrations", "list", "--json")
        doc = orjson.loads(listed.stdout)
        assert doc["integrations"] == [
            {"integrationId": new_id, "name": "ACME", "ownerEmail": "o@acme.com"}
        ]
        assert f"{new_id}\tACME\to@acme.com" in gong.ldjfix("integrations", "list").stdout
        again = gong.ldjfix("integrations", "register", "--name", "B", "--owner-email", "b@b.com",
                            "--json")  # fmt: skip
        assert again.returncode == 4 and again.stdout == ""
        assert again.stderr.startswith("Error: Gong allows one generic integration and already has")
        assert str(new_id) in again.stderr and "Traceback" not in again.stderr
        refused = gong.ldjfix("integrations", "delete", "--integration-id", str(new_id))
        assert refused.returncode == 2
        assert "not asking without a terminal. Pass --yes to delete." in refused.stderr
        gone = gong.ldjfix("integrations", "delete", "--integration-id", str(new_id), "--yes")
        assert gone.returncode == 0, gone.stderr
        assert "DONE" in gone.stderr
        assert orjson.loads(gong.ldjfix("integrations", "list", "--json").stdout) == {
            "integrations": []
        }
        second = gong.ldjfix("integrations", "register", "--name", "B", "--owner-email", "b@b.com",
                             "--json")  # fmt: skip
        assert second.returncode == 0
        assert set(orjson.loads(second.stdout)) == {"integrationId"}


def test_integrations_delete_unknown_id_names_the_known_one(tmp_path: Path) -> None:
    """Deleting an id Gong does not list is refused (exit 2) and sends no DELETE."""
    with remote("serve", tmp_path) as gong:
        gong.ldjfix("integrations", "register", "--name", "ACME", "--owner-email", "o@acme.com")
        done = gong.ldjfix("integrations", "delete", "--integration-id", "12345", "--yes")
        assert gong.server is not None
        methods = [c.method for c in gong.server.app.calls]
    assert done.returncode == 2
    assert done.stderr.startswith("Error: Gong has no integration 12345 (it lists: integration ")
    assert "DELETE" not in methods


def test_integrations_register_bad_email_is_usage(tmp_path: Path) -> None:
    """An owner email without @ is refused before anything is sent."""
    with remote("sandbox", tmp_path) as gong:
        done = gong.ldjfix("integrations", "register", "--name", "A", "--owner-email", "nobody")
    assert done.returncode == 2
    assert done.stderr == "Error: --owner-email 'nobody' is not an email address.\n"


@pytest.mark.parametrize(("answer", "code"), [("n", 1), ("y", 0)])
def test_integrations_delete_asks_on_a_terminal(tmp_path: Path, answer: str, code: int) -> None:
    """On a terminal, delete asks first; "n" deletes nothing, "y" deletes and waits for DONE."""
    with remote("sandbox", tmp_path) as gong:
        made = gong.ldjfix("integrations", "register", "--name", "ACME", "--owner-email", "o@a.com")
        new_id = made.stdout.strip()
        parent, child = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ldjfix", "integrations", "delete", "--integration-id", new_id,
             *gong.args],
            env=gong.env, stdin=child, stdout=child, stderr=child,
        )  # fmt: skip
        os.close(child)
        shown = b""
        while b"[y/N]" not in shown:
            shown += os.read(parent, 1024)
        os.write(parent, answer.encode() + b"\n")
        try:
            while chunk := os.read(parent, 1024):
                shown += chunk
        except OSError:
            pass
        proc.wait(timeout=60)
        os.close(parent)
        left = orjson.loads(gong.ldjfix("integrations", "list", "--json").stdout)["integrations"]
    assert b"Delete integration " in shown and b"(ACME)" in shown
    assert proc.returncode == code
    assert len(left) == (1 if answer == "n" else 0)
