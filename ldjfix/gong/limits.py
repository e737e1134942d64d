"""Gong's published limits, in one place (Gong's CRM API reference, section 1 and 2.3).

Shared by the client (which refuses before sending) and the sandbox (which enforces them like
Gong), so the two can never disagree.
"""

from __future__ import annotations

# "Maximum payload size: 200 megabytes". Whether Gong means 10**6 or 2**20 bytes is not said;
# the decimal reading is the stricter one, so a file ldjfix lets through is never too big.
MAX_UPLOAD_BYTES = 200 * 1000 * 1000
MAX_LISTED_ERRORS = 20
CALLS_PER_SECOND = 3.0
MAX_READBACK_IDS = 100
MAX_INTEGRATION_ID = 2**63 - 1  # int64
UPLOAD_TYPES = ("ACCOUNT", "CONTACT", "DEAL", "LEAD", "BUSINESS_USER", "STAGE")
SCHEMA_TYPES = ("ACCOUNT", "CONTACT", "DEAL", "LEAD")
