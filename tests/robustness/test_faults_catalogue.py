# ruff: noqa: E501  (the catalogue rows are messages exactly as printed, one string each)
"""The bad-inputs catalogue: each kind of bad input, the message ldjfix prints, its exit code.

The rows below are the README's "Bad inputs catalogue" table. Each is checked against the
real command line (a loopback sandbox stands in for Gong where one is needed), and the README
must hold the table exactly as :func:`markdown_table` renders it, so neither can drift.
Regenerate the README table with ``python -m tests.robustness.test_faults_catalogue``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.gong.connection import basic_auth
from ldjfix.gong.retry import RetryPolicy
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving
from tests.support.edges import ldjfix

REPO = Path(__file__).parents[2]
SAMPLES = REPO / "samples"
CREDS = {"GONG_ACCESS_KEY": "catalogue-key", "GONG_ACCESS_KEY_SECRET": "catalogue-secret"}
NO_CREDS = {"GONG_ACCESS_KEY": "", "GONG_ACCESS_KEY_SECRET": "", "GONG_BEARER_TOKEN": ""}


@dataclass(frozen=True)
class Row:
    """One bad input: what it is, the command that meets it, what it prints and exits with."""

    kind: str
    command: str  # after "ldjfix "; {url} is the sandbox, {down} a closed loopback port
    message: str  # the line printed (Error: ... for errors)
    code: int
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None  # a workspace file piped in: the row runs as a real process
    machine: str | None = None  # "full disk" or "read-only": a real process with that limit


ROWS = [
    Row(
        "missing input file",
        "validate missing.ldjson -t ACCOUNT",
        "Error: input file missing.ldjson does not exist. Check the path.",
        3,
    ),
    Row(
        "a folder where a file belongs",
        "merge accounts.ldjson folder -o out.ldjson",
        "Error: fixed file folder is a folder, not a file. Name a file.",
        3,
    ),
    Row(
        "status file missing",
        "annotate accounts.ldjson --status-file gone.json",
        "Error: status file gone.json does not exist. Check the path.",
        3,
    ),
    Row(
        "status file not JSON",
        "annotate accounts.ldjson --status-file cut.json",
        "Error: status file cut.json is not JSON (unexpected end of data at character 37). Pass the saved body of a GET /v2/crm/request-status response.",
        3,
    ),
    Row(
        "status file is JSON but not a status",
        "extract accounts.ldjson --status-file list.json -o out.ldjson",
        'Error: status file list.json is not a request status (not a JSON object). Expected a GET /v2/crm/request-status response such as {"status": "FAILED", "errors": [{"line": 3, "description": "..."}]}.',
        3,
    ),
    Row(
        "status line past the end of the file",
        "annotate accounts.ldjson --status-file past.json",
        "warning: the status names line(s) 999 but accounts.ldjson has only 300 lines: is this the file that was uploaded?",
        1,
    ),
    Row(
        "FIXED file not LDJSON (pretty-printed)",
        "merge accounts.ldjson pretty.json -o out.ldjson",
        "Error: pretty.json line 1 is not a JSON object (invalid JSON: unexpected end of data at character 2). Keep every record on one line as extract wrote it: LDJSON has no pretty-printed (multi-line) records.",
        3,
    ),
    Row(
        "FIXED record without extract bookkeeping",
        "merge accounts.ldjson plain.ldjson -o out.ldjson",
        "Error: plain.ldjson line 1 has no _ldjfix key, so it cannot be put back. Only records written by `ldjfix extract` can be merged; keep their _ldjfix key as it is.",
        3,
    ),
    Row(
        "FIXED extracted from another file",
        "merge contacts.ldjson failing.ldjson -o out.ldjson",
        "Error: line 23 of contacts.ldjson is not the line extracted to failing.ldjson line 1 (its content differs). Merge into the same file you extracted from.",
        3,
    ),
    Row(
        "output path is the input file",
        "merge accounts.ldjson failing.ldjson -o accounts.ldjson",
        "Error: the output accounts.ldjson is an input of this command; ldjfix never overwrites its input. Choose another output path.",
        2,
    ),
    Row(
        "output is the input by a hard link",
        "merge accounts.ldjson failing.ldjson -o accounts-link.ldjson",
        "Error: the output accounts-link.ldjson is an input of this command (the same file as accounts.ldjson); ldjfix never overwrites its input. Choose another output path.",
        2,
    ),
    Row(
        "fix output is the source",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --rules rules.toml -o accounts.ldjson",
        "Error: the output accounts.ldjson is an input of this command; ldjfix never overwrites its input. Choose another output path.",
        2,
    ),
    Row(
        "fix --rejected (or --fixes) is the source by another path",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --rules rules.toml -o out.ldjson --rejected ./folder/../accounts.ldjson",
        "Error: the output ./folder/../accounts.ldjson is an input of this command (the same file as accounts.ldjson); ldjfix never overwrites its input. Choose another output path.",
        2,
    ),
    Row(
        "sandbox folder that is a file, for a batch",
        "run accounts.ldjson small.ldjson -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir statefile",
        "Error: Cannot use statefile as the sandbox folder: File exists. Pick a writable folder with --sandbox-dir or LDJFIX_SANDBOX_DIR.",
        2,
    ),
    Row(
        "source inside --job-dir under an output's name",
        "run export/corrected.ldjson -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state --job-dir export",
        "Error: the source export/corrected.ldjson is a file the job writes in its folder export; the job would overwrite it. Move the source out of the job folder, or pass another --job-dir.",
        2,
    ),
    Row(
        "output is a device (written through, never replaced)",
        "merge accounts.ldjson failing.ldjson -o /dev/null",
        "wrote /dev/null: 0 record(s) corrected; 20 record(s) in failing.ldjson were unchanged; 280 other line(s) of accounts.ldjson copied unchanged.",
        0,
    ),
    Row(
        "disk full while writing an output",
        "merge accounts.ldjson failing.ldjson -o full.ldjson",
        "Error: cannot write full.ldjson: File too large. The file system (or a ulimit) caps file sizes; write elsewhere.",
        3,
        machine="full disk",
    ),
    Row(
        "output in a read-only folder",
        "merge accounts.ldjson failing.ldjson -o ro/out.ldjson",
        "Error: cannot write ro/out.ldjson: Permission denied. Check the permissions of the file and its folder, or write elsewhere.",
        3,
        machine="read-only",
    ),
    Row(
        "a device as input",
        "validate /dev/zero -t ACCOUNT",
        "Error: input file /dev/zero is a device, not a file. Save the data to a file first and name that file.",
        2,
    ),
    Row(
        "input piped on stdin (spooled, then read like a file)",
        "validate - -t ACCOUNT",
        "284 valid, 16 invalid; 16 errors, 4 warnings",
        1,
        stdin="accounts.ldjson",
    ),
    Row(
        "run fed by a pipe (spooled into the job folder, resumable)",
        "run /dev/stdin -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state --job-dir piped-job",
        "ldjfix: QUARANTINED: 278 records accepted by Gong; 22 records quarantined (see rejected.ldjson)",
        1,
        stdin="accounts.ldjson",
    ),
    Row(
        "output path is a folder",
        "merge accounts.ldjson failing.ldjson -o folder",
        "Error: cannot write folder: it is a folder. Name a file.",
        3,
    ),
    Row(
        "output folder does not exist",
        "extract accounts.ldjson --status-file accounts-status.json -o nowhere/out.ldjson",
        "Error: cannot write nowhere/out.ldjson: No such file or directory. Create its folder first, or write elsewhere.",
        3,
    ),
    Row(
        "rules file not TOML",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --rules broken.toml -o out.ldjson",
        "Error: broken.toml is not valid TOML: Expected ']]' at the end of an array declaration (at line 1, column 7). See \"Rules files\" in the README; each rule is a [[rule]] table.",
        3,
    ),
    Row(
        "rules file with an unknown action",
        "run accounts.ldjson -t ACCOUNT --integration-id 1 --rules shorten.toml --sandbox --sandbox-dir state",
        "Error: shorten.toml rule 1 (field 'name'): unknown action 'shorten'. Actions: set, fill, drop, rename, truncate, reformat_datetime, coerce, map, replace, quarantine.",
        3,
    ),
    Row(
        "schema file not JSON",
        "validate accounts.ldjson -t ACCOUNT --schema-file cut.json",
        "Error: schema file cut.json is not JSON (unexpected end of data at character 37). Save the body of GET /v2/crm/entity-schema?integrationId=..&objectType=.. .",
        3,
    ),
    Row(
        "schema file with an unknown field type",
        "validate accounts.ldjson -t ACCOUNT --schema-file color.json",
        "Error: schema file color.json: ACCOUNT field 1 ('tier'): unknown type 'COLOR'. Gong's types: BOOLEAN, DATE, DATETIME, NUMBER, PERCENT, CURRENCY, PHONENUMBER, EMAILADDRESS, REFERENCE, ID, STRING, URL, STRINGARRAY, PICKLIST.",
        3,
    ),
    Row(
        "schema list breaking Gong's field model",
        "schema push color.json --integration-id 1 -t ACCOUNT --sandbox --sandbox-dir state",
        "Error: schema file color.json: field 1 ('tier'): 'label' is required; field 1 ('tier'): 'type' 'COLOR' is not one of BOOLEAN, DATE, DATETIME, PICKLIST, NUMBER, PERCENT, CURRENCY, PHONENUMBER, EMAILADDRESS, REFERENCE, ID, STRING, URL, STRINGARRAY (case-sensitive). Fix the file (reference 3.8: uniqueName, label and type are required). Nothing was sent.",
        3,
    ),
    Row(
        "schema of a type without custom fields",
        "schema pull --integration-id 1 -t STAGE -o stages-schema.json --sandbox --sandbox-dir state",
        "Error: objectType 'STAGE' is not one of ACCOUNT, CONTACT, DEAL, LEAD (case-sensitive).",
        2,
    ),
    Row(
        "suggested rules written over the input",
        "rules suggest accounts.ldjson -t ACCOUNT -o accounts.ldjson",
        "Error: the output accounts.ldjson is an input of this command; ldjfix never overwrites its input. Choose another output path.",
        2,
    ),
    Row(
        "registering with an owner email that is not one",
        "integrations register --name ACME --owner-email nobody --sandbox --sandbox-dir state",
        "Error: --owner-email 'nobody' is not an email address.",
        2,
    ),
    Row(
        "deleting an integration Gong does not have",
        "integrations delete --integration-id 42 --yes --sandbox --sandbox-dir state",
        "Error: Gong has no integration 42 (it lists: none). See `ldjfix integrations list`.",
        2,
    ),
    Row(
        "failure rate out of range",
        "run accounts.ldjson -t ACCOUNT --integration-id 1 --max-failure-rate 150 --sandbox --sandbox-dir state",
        "Error: Invalid value for '--max-failure-rate': 150.0 is not in the range 0<=x<=100.",
        2,
    ),
    Row(
        "config file holding a secret",
        "run accounts.ldjson -t ACCOUNT --config secret.toml --sandbox --sandbox-dir state",
        "Error: secret.toml: key 'api_key': looks like a credential; ldjfix reads credentials only from the environment (GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN). Remove it from the file.",
        3,
    ),
    Row(
        "config file with a bad value",
        "run accounts.ldjson -t ACCOUNT --config badrate.toml --sandbox --sandbox-dir state",
        "Error: badrate.toml: key 'calls_per_second': must be a number greater than 0, not -2.",
        3,
    ),
    Row(
        "job manifest without object_type",
        "run --manifest jobs.toml --integration-id 1 --sandbox --sandbox-dir state",
        "Error: jobs.toml: job 1: key 'object_type': is missing; every [[job]] needs file and object_type.",
        3,
    ),
    Row(
        "file carrying extract bookkeeping",
        "upload failing.ldjson -t ACCOUNT --integration-id 1 --base-url {url}",
        "Error: failing.ldjson line 1 still carries extract bookkeeping ('_ldjfix'). Nothing was sent. Upload the file `ldjfix merge` writes, not the extracted one.",
        3,
        CREDS,
    ),
    Row(
        "run on a file carrying extract bookkeeping",
        "run failing.ldjson -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state",
        "Error: failing.ldjson line 1 still carries extract bookkeeping (_ldjfix). Merge the edited records back with `ldjfix merge` first.",
        3,
    ),
    Row(
        "file over 200 MB",
        "upload huge.ldjson -t ACCOUNT --integration-id 1 --base-url {url}",
        "Error: huge.ldjson is 200,000,001 bytes; Gong accepts at most 200,000,000 per upload. Nothing was sent. Split it into smaller files (keep records sharing an objectId together).",
        3,
        CREDS,
    ),
    Row(
        "source changed under an unfinished job",
        "run changing.ldjson -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state --job-dir changing-job",
        "Error: the source file changed since the job in changing-job started, and that job has not finished (round 0, phase settled). Restore the original file and run the same command to finish it; or pass another --job-dir (or remove the folder) to start a new job for the new file.",
        3,
    ),
    Row(
        "job folder with a damaged journal",
        "run accounts.ldjson -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state --job-dir strange-job",
        "Error: strange-job/journal.json is not a job journal ldjfix can resume (damaged, or not written by ldjfix). Remove the job folder or pass another --job-dir.",
        3,
    ),
    Row(
        "job folder with a damaged report.json",
        "run small.ldjson -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state --job-dir done-job",
        "Error: job file done-job/report.json is damaged (not JSON: unexpected end of data). Delete it and run the same command again: ldjfix writes the job's outputs afresh.",
        3,
    ),
    Row(
        "rules pattern with no linear-time match",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --rules lookahead.toml -o out.ldjson",
        "Error: lookahead.toml rule 1: 'pattern' is not a valid regular expression (RE2 syntax, run in linear time): invalid perl operator: (?= (lookaround and backreferences are not supported: they cannot run in bounded time).",
        3,
    ),
    Row(
        "rules replacement naming a missing group",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --rules group9.toml -o out.ldjson",
        "Error: group9.toml rule 1 (field 'name'): 'with' cannot be used: the replacement refers to group 9, but the pattern has 1 group.",
        3,
    ),
    Row(
        "interactive answers file with a damaged line",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --interactive -o answered.ldjson",
        "Error: answers file answered.ldjson.answers.jsonl line 1 is not an answer ldjfix wrote. Delete that line (its question is asked again), or the whole file.",
        3,
    ),
    Row(
        "record nested deeper than 255 levels",
        "validate deep.ldjson -t ACCOUNT",
        "deep.ldjson:1: objectId=a1 Record nests arrays or objects too deeply to be checked (more than 250 levels); no CRM field is that deep: flatten or remove the nested value",
        1,
    ),
    Row(
        "objectId holding terminal escapes",
        "validate escapes.ldjson -t ACCOUNT",
        "escapes.ldjson:1: objectId=\\e]0;PWNED\\u0007\\e[2J Mandatory field [modifiedDate] is missing or empty",
        1,
    ),
    Row(
        "run from a pipe without --job-dir",
        "run - -t ACCOUNT --integration-id 1 --sandbox --sandbox-dir state",
        "Error: the source stdin is a stream (read once), so the job needs a folder to keep its copy in. Pass --job-dir D; to resume, run the same command again with the same data (or name D/source.ldjson as FILE).",
        2,
    ),
    Row(
        "two JSON forms of validate at once",
        "validate accounts.ldjson -t ACCOUNT --json --jsonl",
        "Error: Use --json or --jsonl, not both.",
        2,
    ),
    Row(
        "unknown object type",
        "upload accounts.ldjson -t WIDGET --integration-id 1 --base-url {url}",
        "Error: objectType 'WIDGET' is not one of ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER, STAGE (any case).",
        2,
        CREDS,
    ),
    Row(
        "interactive fixer quit before the end (end of input)",
        "fix accounts.ldjson --status-file accounts-status.json -t ACCOUNT --interactive -o quit.ldjson",
        "Error: stopped at the terminal at record 1 of 20 (line 23); 20 reported record(s) still undecided (line 23, 39, 43, 48, 56, 64, 65, 116, 119, 130 and 10 more); no answer was given yet; run the same command again to start over.",
        1,
    ),
    Row(
        "completion for an unknown shell",
        "completion tcsh",
        "Error: Invalid value for '{bash|zsh|fish}': 'tcsh' is not one of 'bash', 'zsh', 'fish'.",
        2,
    ),
    Row(
        "no integration id anywhere",
        "upload accounts.ldjson -t ACCOUNT --base-url {url}",
        "Error: No integration id: pass --integration-id, or set integration_id in ldjfix.toml or LDJFIX_INTEGRATION_ID.",
        2,
        CREDS,
    ),
    Row(
        "config file with a bad keep_history",
        "run accounts.ldjson -t ACCOUNT --config keep.toml --sandbox --sandbox-dir state",
        "Error: keep.toml: key 'keep_history': must be a whole number, 0 or more, not -1.",
        3,
    ),
    Row(
        "fix on a damaged rejected.ldjson",
        "fix rejected.ldjson -t ACCOUNT --rules rules.toml -o fixed.ldjson",
        "Error: rejected.ldjson line 2 is not an entry of a job's rejected.ldjson. Pass the rejected.ldjson a run wrote, unchanged.",
        3,
    ),
    Row(
        "integration id out of range",
        "status --integration-id 0 --client-request-id x --base-url {url}",
        "Error: Invalid value for '--integration-id': 0 is not in the range 1<=x<=9223372036854775807.",
        2,
        CREDS,
    ),
    Row(
        "status file and a remote status at once",
        "annotate accounts.ldjson --status-file accounts-status.json --integration-id 1 --client-request-id x",
        "Error: Use --status-file or --integration-id/--client-request-id, not both.",
        2,
    ),
    Row(
        "missing credentials",
        "status --integration-id 1 --client-request-id x --base-url {url}",
        "Error: No Gong credentials in the environment. Set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET (an API key pair from Gong's API page), or GONG_BEARER_TOKEN (an OAuth token).",
        2,
        NO_CREDS,
    ),
    Row(
        "half a key pair",
        "status --integration-id 1 --client-request-id x --base-url {url}",
        "Error: GONG_ACCESS_KEY is set but GONG_ACCESS_KEY_SECRET is not. Set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET (an API key pair from Gong's API page), or GONG_BEARER_TOKEN (an OAuth token).",
        2,
        {**NO_CREDS, "GONG_ACCESS_KEY": "k"},
    ),
    Row(
        "a bearer token with a pasted dash (not ASCII)",
        "status --integration-id 1 --client-request-id x --base-url {url}",
        "Error: GONG_BEARER_TOKEN holds a character that is not ASCII; a Gong token never does. Copy the token again from where it was issued (a pasted quote or dash is the usual culprit).",
        2,
        {**NO_CREDS, "GONG_BEARER_TOKEN": "tok\u2013en"},
    ),
    Row(
        "no base URL",
        "status --integration-id 1 --client-request-id x",
        "Error: No Gong base URL: pass --base-url or set GONG_BASE_URL. Gong shows it on the API page (e.g. https://us-55616.api.gong.io); or use --sandbox to try ldjfix without an account.",
        2,
        CREDS,
    ),
    Row(
        "credentials over plain http to another host",
        "status --integration-id 1 --client-request-id x --base-url http://gong.invalid",
        "Error: Refusing to send Gong credentials over plain http to gong.invalid. Use https://, or http:// only for a server on this machine (127.0.0.1).",
        2,
        CREDS,
    ),
    Row(
        "credentials inside the base URL",
        "status --integration-id 1 --client-request-id x --base-url https://key:secret@gong.invalid",
        "Error: --base-url must not carry credentials (user:password@). Set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET (an API key pair from Gong's API page), or GONG_BEARER_TOKEN (an OAuth token).",
        2,
        CREDS,
    ),
    Row(
        "credentials refused (401)",
        "status --integration-id 1 --client-request-id x --base-url {url}",
        "Error: Request status of x: Gong answered HTTP 401: Access denied: invalid credentials (Gong requestId …). Access denied: check the credentials (Set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET (an API key pair from Gong's API page), or GONG_BEARER_TOKEN (an OAuth token).) and --base-url.",
        4,
        {**NO_CREDS, "GONG_BEARER_TOKEN": "wrong"},
    ),
    Row(
        "unknown clientRequestId",
        "status --integration-id 1 --client-request-id never --base-url {url}",
        "Error: Request status of never: Gong answered HTTP 400: No request with clientRequestId never for this integration (Gong requestId …). Gong found the request malformed; check the integration id, object type and clientRequestId.",
        4,
        CREDS,
    ),
    Row(
        "clientRequestId used before (409)",
        "upload accounts.ldjson -t ACCOUNT --integration-id 1 --client-request-id used-1 --base-url {url}",
        "Error: Upload of accounts.ldjson: Gong answered HTTP 409: Client request id has already been used (Gong requestId …): clientRequestId 'used-1' was already used for integration 1. Every upload needs a new id: leave --client-request-id out, or check `ldjfix status --integration-id 1 --client-request-id used-1`.",
        4,
        CREDS,
    ),
    Row(
        "network down",
        "status --integration-id 1 --client-request-id x --base-url {down}",
        "Error: Request status of x: cannot connect ([Errno 111] Connection refused); gave up after 6 attempts. Gong may be down or overloaded; try again later.",
        4,
        CREDS,
    ),
    Row(
        "Gong keeps failing (5xx)",
        "status --integration-id 1 --client-request-id x --base-url {failing}",
        "Error: Request status of x: Gong answered HTTP 503: An error has occurred (Gong requestId …); gave up after 6 attempts. Gong may be down or overloaded; try again later.",
        4,
        CREDS,
    ),
]


def markdown_table(rows: list[Row] = ROWS) -> str:
    """The README table."""
    lines = ["| bad input | command | what ldjfix prints | exit |", "| --- | --- | --- | ---: |"]
    for row in rows:
        command = (
            row.command.replace("{url}", "URL").replace("{down}", "URL").replace("{failing}", "URL")
        )
        message = row.message.replace("|", "\\|")
        lines.append(f"| {row.kind} | `ldjfix {command}` | {message} | {row.code} |")
    return "\n".join(lines) + "\n"


def make_workspace(folder: Path) -> None:
    """The files the rows use."""
    for name in ("accounts.ldjson", "accounts-status.json", "contacts.ldjson"):
        shutil.copy(SAMPLES / name, folder / name)
    (folder / "folder").mkdir()
    shutil.copy(SAMPLES / "rules.toml", folder / "rules.toml")
    os.link(folder / "accounts.ldjson", folder / "accounts-link.ldjson")
    (folder / "export").mkdir()
    shutil.copy(SAMPLES / "accounts.ldjson", folder / "export" / "corrected.ldjson")
    (folder / "ro").mkdir(mode=0o555)
    (folder / "strange-job").mkdir()
    (folder / "strange-job" / "journal.json").write_bytes(b"[1]\n")
    (folder / "cut.json").write_bytes(b'{"status": "FAILED", "errors": [{"li')
    (folder / "list.json").write_bytes(b"[1, 2]")
    (folder / "past.json").write_bytes(
        b'{"status": "FAILED", "errors": [{"line": 999, "description": "Mandatory field '
        b'[objectId] is missing or empty"}], "totalErrorCount": 1, "totalSuccessCount": 299}'
    )
    (folder / "pretty.json").write_bytes(b'{\n  "objectId": "a1"\n}\n')
    (folder / "plain.ldjson").write_bytes(b'{"objectId": "a1"}\n')
    (folder / "broken.toml").write_bytes(b"[[rule]\nfield = 'name'\n")
    (folder / "shorten.toml").write_bytes(b'[[rule]]\nfield = "name"\naction = "shorten"\n')
    (folder / "color.json").write_bytes(
        b'{"objectTypeToSelectedFields": {"ACCOUNT": [{"uniqueName": "tier", "type": "COLOR"}]}}'
    )
    (folder / "secret.toml").write_bytes(b'integration_id = 1\napi_key = "abc"\n')
    (folder / "badrate.toml").write_bytes(b"integration_id = 1\ncalls_per_second = -2\n")
    (folder / "keep.toml").write_bytes(b"integration_id = 1\nkeep_history = -1\n")
    shutil.copy(SAMPLES / "rules.toml", folder / "rules.toml")
    entry = b'{"line": 3, "objectId": null, "errors": ["Mandatory field [objectId] is missing"], '
    (folder / "rejected.ldjson").write_bytes(entry + b'"record": {"name": "A"}}\n{"line": 4}\n')
    (folder / "jobs.toml").write_bytes(b'[[job]]\nfile = "accounts.ldjson"\n')
    (folder / "lookahead.toml").write_bytes(
        b"[[rule]]\npattern = '(?=Mandatory)'\naction = \"quarantine\"\n"
    )
    (folder / "group9.toml").write_bytes(
        b"[[rule]]\nfield = \"name\"\naction = \"replace\"\nregex = '(a)'\nwith = '\\9'\n"
    )
    (folder / "answered.ldjson.answers.jsonl").write_bytes(b"null\n")
    deep = b"[" * 300 + b"]" * 300
    (folder / "deep.ldjson").write_bytes(
        b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z","name":"n","x":' + deep + b"}\n"
    )
    (folder / "escapes.ldjson").write_bytes(b'{"objectId":"\\u001b]0;PWNED\\u0007\\u001b[2J"}\n')
    with open(folder / "huge.ldjson", "wb") as huge:  # sparse: costs no disk
        huge.truncate(200_000_001)
    runner = CliRunner()
    done = runner.invoke(
        cli,
        [
            "extract",
            str(folder / "accounts.ldjson"),
            "--status-file",
            str(folder / "accounts-status.json"),
            "-o",
            str(folder / "failing.ldjson"),
        ],
    )
    assert done.exit_code == 0, done.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A workspace, a sandbox requiring CREDS, an always-failing one and a closed port."""
    folder = tmp_path_factory.mktemp("catalogue")
    make_workspace(folder)
    header = basic_auth(CREDS["GONG_ACCESS_KEY"], CREDS["GONG_ACCESS_KEY_SECRET"]).header()
    with (
        serving(folder / "sb", Knobs(polls=0, calls_per_second=0), require_auth=header) as good,
        serving(folder / "sb5", Knobs(shares={"503": 1.0}, calls_per_second=0)) as bad,
    ):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            down = f"http://127.0.0.1:{closed.getsockname()[1]}"
        _prepare(folder, good)
        yield folder, {"url": good.url, "down": down, "failing": bad.url}


def _prepare(folder: Path, sandbox: RunningSandbox) -> None:
    """State some rows need: an id already used, a job whose source then changes."""
    env = {**CREDS, "GONG_BASE_URL": sandbox.url}
    runner = CliRunner(env=env)
    used = runner.invoke(
        cli,
        [
            "upload",
            str(folder / "accounts.ldjson"),
            "-t",
            "ACCOUNT",
            "--integration-id",
            "1",
            "--client-request-id",
            "used-1",
        ],
    )
    assert used.exit_code == 0, used.output
    changing = folder / "changing.ldjson"
    changing.write_bytes(b'{"objectId":"c1","modifiedDate":"2024-01-01T00:00:00Z","name":"C"}\n')
    # a job killed after planning its first upload: unfinished, so a changed source stops it
    env = {**os.environ, "GONG_BASE_URL": "", "LDJFIX_CRASH_AT": "plan:1"}
    env["LDJFIX_SANDBOX_KNOBS"] = '{"polls": 0, "calls_per_second": 0}'
    first = subprocess.run(
        [
            sys.executable,
            "-m",
            "ldjfix",
            "run",
            str(changing),
            "-t",
            "ACCOUNT",
            "--integration-id",
            "1",
            "--sandbox",
            "--sandbox-dir",
            str(folder / "state"),
            "--job-dir",
            str(folder / "changing-job"),
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    assert first.returncode == -9, first.stderr
    changing.write_bytes(changing.read_bytes() + b'{"objectId":"c2"}\n')
    small = folder / "small.ldjson"
    small.write_bytes(b'{"objectId":"s1","modifiedDate":"2024-01-01T00:00:00Z","name":"S"}\n')
    (folder / "statefile").write_bytes(b"not a folder\n")  # where a sandbox folder belongs
    done = runner.invoke(
        cli,
        ["run", str(small), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox",
         "--sandbox-dir", str(folder / "state"), "--job-dir", str(folder / "done-job")],
        env={"GONG_BASE_URL": "", "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    report = folder / "done-job" / "report.json"
    report.write_bytes(report.read_bytes()[:50])


def invoke(
    row: Row, folder: Path, urls: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """Run a row's command in the workspace; its exit code and its output, made stable."""
    monkeypatch.chdir(folder)
    # retries wait 0.5 s, 1 s, 2 s...: the same attempts without the waiting
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, retry: 0.0)
    env = {
        "GONG_BASE_URL": "",
        "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}',
        **row.env,
    }
    args = row.command.format(**urls).split()
    if row.stdin or row.machine:  # a real process: a pipe on stdin, a limit on the machine
        done = ldjfix(
            args,
            cwd=folder,
            stdin=(folder / row.stdin).read_bytes() if row.stdin else None,
            env=env,
            file_size=4096 if row.machine == "full disk" else None,
            read_only=row.machine == "read-only",
        )
        code, output = done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")
    else:
        result = CliRunner(env=env).invoke(cli, args)
        code, output = result.exit_code, result.output
    output = output.replace(str(folder) + os.sep, "").replace(str(folder), ".")
    for url in urls.values():
        output = output.replace(url, "URL")
    output = re.sub(r"requestId [a-z0-9]{19}", "requestId …", output)
    return code, output


@pytest.mark.parametrize("row", ROWS, ids=[r.kind for r in ROWS])
def test_faults_catalogue_row_is_what_the_cli_prints(
    row: Row, world: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command meets its bad input with the catalogued message and exit code."""
    folder, urls = world
    code, output = invoke(row, folder, urls, monkeypatch)
    assert "Traceback" not in output
    assert code == row.code, output
    assert row.message in output.splitlines(), output


def test_faults_catalogue_is_in_the_readme() -> None:
    """README.md holds the catalogue exactly as the rows render it."""
    readme = (REPO / "README.md").read_text()
    assert "## Bad inputs catalogue" in readme
    assert markdown_table() in readme


if __name__ == "__main__":  # print the table for the README
    print(markdown_table(), end="")
