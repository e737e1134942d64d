"""Property tests: any config or manifest text gives settings/jobs or a clear exit-3 error."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ldjfix.errors import InputProblem
from ldjfix.jobs.manifest import BatchJob, load_manifest
from ldjfix.jobs.settings import Settings, load_config

KEYS = st.sampled_from(
    ["file", "object_type", "rules", "job_dir", "integration_id", "sandbox", "calls_per_second",
     "max_api_calls", "base_url", "token", "job", "x"]
)  # fmt: skip
VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.floats(allow_nan=True).map(repr),
    st.sampled_from(["true", "false", '"ACCOUNT"', '"deal"', '"a.ldjson"', '""', "[]", "{}"]),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
)
LINES = st.one_of(
    st.builds(lambda k, v: f"{k} = {v}", KEYS, VALUES),
    st.sampled_from(["[[job]]", "[job]", "[gong]", "[[job]", "= 3", ""]),
    st.text(max_size=20),
)


def parse_both(text: str) -> None:
    """Parse ``text`` as a config and as a manifest; only InputProblem may come out."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for load in (load_config, load_manifest):
            try:
                result = load(path)
            except InputProblem as exc:
                assert exc.exit_code == 3 and str(path) in str(exc)
                assert "\n" not in exc.message.strip() or "TOML" in exc.message
            else:
                assert isinstance(result, Settings | tuple)
                if isinstance(result, tuple):
                    assert all(isinstance(job, BatchJob) for job in result)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINES, max_size=8).map("\n".join))
def test_config_fuzz_never_tracebacks(text: str) -> None:
    """Arbitrary TOML-ish text: settings, jobs, or a one-line problem naming the file (exit 3)."""
    parse_both(text)
