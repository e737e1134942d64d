"""annotate on the shipped samples: every reported line lands on the record that was planted."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from ldjfix.cli import cli

SAMPLES = Path(__file__).parents[2] / "samples"
ACCOUNTS = str(SAMPLES / "accounts.ldjson")


def test_annotate_samples_map_onto_the_planted_defects() -> None:
    """Each error of the saved status sits on a line whose planted defect names the same field."""
    result = CliRunner().invoke(
        cli,
        [
            "annotate",
            ACCOUNTS,
            "--status-file",
            str(SAMPLES / "accounts-status.json"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 1
    document = orjson.loads(result.stdout)
    planted = {
        d["line"]: d
        for d in orjson.loads((SAMPLES / "defects.json").read_bytes())["accounts.ldjson"]
    }
    assert len(document["errors"]) == 20 and document["unmapped"] == []
    for error in document["errors"]:
        defect = planted[error["line"]]
        assert error["field"] == defect["field"]
        if error["objectId"] is not None:
            assert error["objectId"] == defect["objectId"]
    assert document["warnings"] == [
        "Gong listed errors for 20 line(s) but says 22 records failed (it lists at most 20); "
        "the others are not named by this status."
    ]


def test_annotate_samples_general_error() -> None:
    """The saved line-0 status is shown as a file-level error, with nothing mapped."""
    result = CliRunner().invoke(
        cli,
        ["annotate", ACCOUNTS, "--status-file", str(SAMPLES / "general-error-status.json")],
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{SAMPLES / 'accounts.ldjson'}: 0 error(s) on 0 of 300 line(s); 1 file-level error",
        "",
        "file-level error (line 0): Invalid value for field [dataFile]: the file is not UTF-8 "
        "LDJSON with one JSON object per line",
    ]
