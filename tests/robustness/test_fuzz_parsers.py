"""Fuzzing every parser that reads outside input: a correct result or a clear LdjfixError.

Lines, request statuses, rules files, entity-schema answers, ldjfix.toml, job manifests and the
extract bookkeeping of edited files get random and mutated input from hypothesis. The
property is the same everywhere: the parser returns a result that agrees with its input, or
raises an :class:`~ldjfix.errors.LdjfixError` with a documented exit code and a one-line
message naming the input — never any other exception. Each test is bounded
(``max_examples``) so the whole set stays within CI's time.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ldjfix.errors import LdjfixError
from ldjfix.fixing.rules import load_rules
from ldjfix.gong.status import parse_status
from ldjfix.jobs.manifest import load_manifest
from ldjfix.jobs.settings import load_config
from ldjfix.ldjson.lines import Shape, iter_lines, parse_line, scan
from ldjfix.ldjson.origin import ORIGIN_KEY, line_digest
from ldjfix.mapping.merge import merge_fixed
from ldjfix.validation.validator import Validator, load_entity_schema

# CI runs a bounded number of examples; LDJFIX_FUZZ_EXAMPLES=5000 hunts longer by hand
EXAMPLES = int(os.environ.get("LDJFIX_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
EXIT_CODES = {1, 2, 3, 4}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def dumps(value: Any) -> bytes:
    """JSON bytes of any value, even integers past 64 bits (orjson refuses to write those)."""
    return json.dumps(value).encode()


def expect_clear(exc: LdjfixError, *names: str) -> None:
    """A clear error: a documented exit code, one line, naming the input it is about."""
    assert exc.exit_code in EXIT_CODES
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text
    assert any(name in text for name in names), text


def mutated(data: bytes, draw: Any) -> bytes:
    """``data`` cut short, with a byte changed, or with bytes spliced in."""
    how = draw(st.sampled_from(["cut", "flip", "splice", "same"]))
    if how == "same" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "cut":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data[:at] + draw(st.binary(max_size=6)) + data[at:]


def write(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/name``."""
    path = folder / name
    path.write_bytes(data)
    return path


# --- lines ---------------------------------------------------------------------------------

LINE_BYTES = st.lists(
    st.sampled_from(
        [
            b"\n",
            b"\r\n",
            b"\r",
            b"{",
            b"}",
            b'"a"',
            b":",
            b",",
            b"1",
            b" ",
            b"\xef\xbb\xbf",
            b"\xff",
            b"\xe2\x80\xa8",
            b"[]",
            b'{"objectId":"x"}',
            b"\x00",
            b"null",
        ]
    ),
    max_size=40,
).map(b"".join) | st.binary(max_size=200)


@FUZZ
@given(data=LINE_BYTES)
def test_fuzz_lines_reader_gives_back_every_byte(data: bytes) -> None:
    """iter_lines numbers \\n-only lines, parse_line never raises, and scan returns the file."""
    lines = list(iter_lines(io.BytesIO(data)))
    assert [line.number for line in lines] == list(range(1, len(lines) + 1))
    assert len(lines) == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    for line in lines:
        parsed = parse_line(line)
        assert (parsed.record is None) or isinstance(parsed.record, dict)
        assert parsed.record is None or parsed.defect is None
    wanted = {n for n in range(1, len(lines) + 3) if n % 2}
    pieces = []
    for item in scan(io.BytesIO(data), wanted, Shape()):
        pieces.append(item if isinstance(item, bytes) else item.content + item.ending)
    rebuilt = b"".join(pieces)
    assert rebuilt == data or rebuilt == data.removeprefix(b"\xef\xbb\xbf")


# --- request statuses ----------------------------------------------------------------------

ERROR_ITEM = st.fixed_dictionaries(
    {}, optional={"line": JSON | st.integers(-3, 50), "description": JSON | st.text(max_size=30)}
)
STATUS_DOC = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["DONE", "FAILED", "PENDING", "IN_PROGRESS", ""]) | JSON,
        "errors": st.lists(ERROR_ITEM | JSON, max_size=4) | JSON,
        "totalErrorCount": st.integers(-2, 30) | JSON,
        "totalSuccessCount": st.integers(-2, 30) | JSON,
        "requestId": st.text(max_size=10) | JSON,
    },
)


@st.composite
def status_bytes(draw: Any) -> bytes:
    """A status document, maybe damaged on the way."""
    return mutated(dumps(draw(STATUS_DOC | JSON)), draw)


@FUZZ
@given(data=status_bytes())
def test_fuzz_status_is_parsed_or_refused_clearly(data: bytes) -> None:
    """parse_status returns a status true to the document, or a clear exit-3 error."""
    try:
        status = parse_status(data, source="status file s.json")
    except LdjfixError as exc:
        assert exc.exit_code == 3
        expect_clear(exc, "status file s.json")
        return
    doc = orjson.loads(data)
    assert status.status == doc["status"] and status.raw == doc
    assert len(status.errors) == len(doc.get("errors") or [])
    for error, item in zip(status.errors, doc.get("errors") or [], strict=True):
        assert error.line == (item.get("line") or 0)
        assert error.line >= 0


# --- rules files ---------------------------------------------------------------------------

RULE_KEYS = [
    "field",
    "kind",
    "pattern",
    "action",
    "value",
    "to",
    "values",
    "regex",
    "with",
    "length",
    "name",
]
RULE_VALUES = (
    st.sampled_from(
        [
            "modifiedDate",
            "missing",
            "invalid",
            "any",
            "too_long",
            "dangling",
            "set",
            "fill",
            "drop",
            "rename",
            "truncate",
            "reformat_datetime",
            "coerce",
            "map",
            "quarantine",
            "replace",
            "number",
            "boolean",
            "array",
            "date",
            "now",
            "(",
            "[a-z",
            "x",
        ]
    )
    | st.integers(-5, 300)
    | st.booleans()
    | st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2)
)


def toml_value(value: Any) -> str:
    """A TOML literal for a simple value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{orjson.dumps(k).decode()} = {toml_value(v)}" for k, v in value.items())
            + " }"
        )
    return orjson.dumps(value).decode()


@st.composite
def rules_text(draw: Any) -> bytes:
    """A rules file: [[rule]] tables with random keys and values, maybe damaged."""
    rules = draw(
        st.lists(st.dictionaries(st.sampled_from(RULE_KEYS), RULE_VALUES, max_size=5), max_size=4)
    )
    text = "".join(
        "[[rule]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in rule.items())
        for rule in rules
    )
    if draw(st.booleans()):
        text = f"{draw(st.sampled_from(['extra', 'rule']))} = 1\n" + text
    return mutated(text.encode(), draw)


@FUZZ
@given(data=rules_text())
def test_fuzz_rules_file_is_loaded_or_refused_clearly(data: bytes) -> None:
    """load_rules returns the rules in the file, or a clear exit-3 error naming the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "rules.toml", data)
        try:
            rules = load_rules(path)
        except LdjfixError as exc:
            expect_clear(exc, str(path))
            assert exc.exit_code == 3
            return
    assert data.count(b"[[rule]]") >= len(rules.rules)


# --- entity-schema answers -----------------------------------------------------------------

FIELD = st.fixed_dictionaries(
    {},
    optional={
        "uniqueName": st.sampled_from(["tier", "score", "", "objectId"]) | JSON,
        "name": st.text(max_size=5),
        "type": st.sampled_from(
            [
                "STRING",
                "NUMBER",
                "PICKLIST",
                "DATE",
                "DATETIME",
                "BOOLEAN",
                "URL",
                "STRINGARRAY",
                "REFERENCE",
                "BOGUS",
            ]
        )
        | JSON,
        "orderedValueList": st.lists(st.text(max_size=4), max_size=3) | JSON,
        "isDeleted": st.booleans() | JSON,
    },
)
SCHEMA_DOC = (
    st.fixed_dictionaries(
        {},
        optional={
            "requestId": st.text(max_size=5),
            "objectTypeToSelectedFields": st.dictionaries(
                st.sampled_from(["ACCOUNT", "DEAL", "*", "x"]),
                st.lists(FIELD | JSON, max_size=3) | JSON,
                max_size=3,
            )
            | JSON,
        },
    )
    | st.lists(FIELD | JSON, max_size=3)
    | JSON
)


@st.composite
def schema_bytes(draw: Any) -> bytes:
    """An entity-schema answer, maybe damaged."""
    return mutated(dumps(draw(SCHEMA_DOC)), draw)


@FUZZ
@given(
    data=schema_bytes(),
    record=st.dictionaries(st.sampled_from(["tier", "score", "name"]), JSON, max_size=3),
)
def test_fuzz_schema_file_is_used_or_refused_clearly(data: bytes, record: dict[str, Any]) -> None:
    """A schema file types the custom fields, or is a clear exit-3 error naming it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "schema.json", data)
        try:
            doc = load_entity_schema(path)
            validator = Validator("ACCOUNT", entity_schema=doc, schema_source=f"schema file {path}")
        except LdjfixError as exc:
            expect_clear(exc, str(path))
            assert exc.exit_code == 3
            return
    line = dumps({"objectId": "a1", "modifiedDate": "2024-01-01T00:00:00Z", **record})
    parsed = parse_line(next(iter_lines(io.BytesIO(line))))
    for finding in validator.check(parsed):
        assert finding.as_line_error().line == 1


# --- ldjfix.toml and job manifests ---------------------------------------------------------

CONFIG_KEYS = [
    "base_url",
    "integration_id",
    "rules",
    "calls_per_second",
    "max_api_calls",
    "max_rounds",
    "sandbox",
    "job_dir",
    "log_format",
    "api_key",
    "job",
    "file",
    "object_type",
]
CONFIG_VALUES = (
    st.sampled_from(
        [
            "https://gong.invalid",
            "http://example.com",
            "ACCOUNT",
            "deal",
            "src",
            "",
            "text",
            "json",
            "1",
            "-1",
            "nan",
            "inf",
        ]
    )
    | st.integers(-(2**64), 2**64)
    | st.floats()
    | st.booleans()
)


SETTING_KEYS = CONFIG_KEYS[:9]
JOB_KEYS = ["file", "object_type", "rules", "job_dir"]
GOOD_VALUES = {
    "file": st.just("src"),
    "job_dir": st.sampled_from(["jobs", "jobs/a"]),
    "object_type": st.sampled_from(["ACCOUNT", "account", "DEAL"]),
    "integration_id": st.integers(1, 2**63 - 1),
    "calls_per_second": st.floats(0.5, 50),
    "max_rounds": st.integers(1, 5),
    "max_api_calls": st.integers(1, 500),
    "sandbox": st.booleans(),
    "log_format": st.sampled_from(["text", "json"]),
}


def _table(draw: Any, keys: list[str], odd: list[str]) -> dict[str, Any]:
    """Keys mostly from ``keys`` with values mostly of the right kind; sometimes odd ones."""
    chosen = draw(st.lists(st.sampled_from(keys), max_size=4, unique=True))
    if draw(st.integers(0, 4)) == 0:
        chosen.append(draw(st.sampled_from(odd)))
    return {
        key: draw(
            GOOD_VALUES.get(key, CONFIG_VALUES) | CONFIG_VALUES
            if draw(st.booleans())
            else GOOD_VALUES.get(key, CONFIG_VALUES)
        )
        for key in chosen
    }


@st.composite
def toml_docs(draw: Any, *, manifest: bool | None = None) -> bytes:
    """A config file (settings) or a manifest ([[job]] tables), mostly plausible, maybe damaged."""
    manifest = draw(st.booleans()) if manifest is None else manifest
    top = {} if manifest and draw(st.integers(0, 4)) else _table(draw, SETTING_KEYS, ["api_key"])
    jobs = []
    if manifest:
        for _ in range(draw(st.integers(1, 3)) if draw(st.integers(0, 9)) else 0):
            job = {"file": "src", "object_type": "ACCOUNT"} if draw(st.integers(0, 4)) else {}
            job.update(_table(draw, JOB_KEYS, ["base_url", "token"]))
            jobs.append(job)

    def value(v: Any) -> str:
        return repr(v) if isinstance(v, float) else toml_value(v)

    text = "".join(f"{k} = {value(v)}\n" for k, v in top.items() if k != "job")
    text += "".join(
        "[[job]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in job.items()) for job in jobs
    )
    if draw(st.integers(0, 2)) == 0:
        return mutated(text.encode(), draw)
    return text.encode()


@FUZZ
@given(data=toml_docs())
def test_fuzz_config_file_is_loaded_or_refused_clearly(data: bytes) -> None:
    """ldjfix.toml gives checked settings, or a clear error naming the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "ldjfix.toml", data)
        try:
            settings_ = load_config(path)
        except LdjfixError as exc:
            expect_clear(exc, str(path))
            return
    assert settings_.calls_per_second > 0
    assert settings_.log_format in ("text", "json")


@FUZZ
@given(data=toml_docs())
def test_fuzz_manifest_is_loaded_or_refused_clearly(data: bytes) -> None:
    """A job manifest gives jobs with known object types, or a clear error naming the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "jobs.toml", data)
        try:
            jobs = load_manifest(path)
        except LdjfixError as exc:
            expect_clear(exc, str(path))
            return
    assert jobs and all(job.object_type.isupper() for job in jobs)


# --- the extract bookkeeping in edited files -----------------------------------------------

SOURCE = b'{"objectId":"a1","name":"x"}\n{"objectId":"a2"\n[1]\n\n{"objectId":"a3","n":1}\n'
SOURCE_LINES = SOURCE.split(b"\n")


@st.composite
def fixed_files(draw: Any) -> bytes:
    """An edited FIXED file: records with real, wrong or damaged bookkeeping."""
    out = []
    for _ in range(draw(st.integers(0, 4))):
        line = draw(st.integers(-1, 8))
        content = SOURCE_LINES[line - 1] if 1 <= line <= len(SOURCE_LINES) else b"?"
        digest = draw(st.sampled_from([line_digest(content), "0" * 64, "xyz", None]))
        origin: Any = draw(st.sampled_from([{"line": line, "sha256": digest}, None, [line], line]))
        record: dict[str, Any] = {ORIGIN_KEY: origin} if draw(st.booleans()) or True else {}
        record.update(
            draw(
                st.dictionaries(
                    st.sampled_from(["objectId", "name", "_raw", "n"]), JSON, max_size=3
                )
            )
        )
        if draw(st.booleans()):
            record.pop(ORIGIN_KEY)
        out.append(dumps(record))
    return mutated(b"\n".join(out) + b"\n", draw)


@FUZZ
@given(data=fixed_files(), only=st.booleans())
@example(
    data=b'{"_ldjfix":{"line":2,"sha256":"'
    + line_digest(SOURCE_LINES[1]).encode()
    + b'"},"_raw":"{\\"objectId\\":\\"a2\\"}"}\n',
    only=False,
)
def test_fuzz_merge_bookkeeping_is_merged_or_refused_clearly(data: bytes, only: bool) -> None:
    """merge puts edits back (never losing a line) or refuses clearly, leaving no output."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = write(folder, "src.ldjson", SOURCE)
        fixed = write(folder, "fixed.ldjson", data)
        out = folder / "out.ldjson"
        try:
            result = merge_fixed(source, fixed, out, only_corrected=only)
        except LdjfixError as exc:
            expect_clear(exc, str(fixed), str(source))
            assert exc.exit_code == 3 and not out.exists()
            assert sorted(p.name for p in folder.iterdir()) == ["fixed.ldjson", "src.ldjson"]
            return
        written = out.read_bytes()
        assert source.read_bytes() == SOURCE
    if not only:
        assert written.count(b"\n") == SOURCE.count(b"\n")  # every line kept
        assert result.lines == SOURCE.count(b"\n")
    else:
        assert written.count(b"\n") == result.corrected
