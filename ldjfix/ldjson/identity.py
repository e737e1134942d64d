"""What a source is and what makes it the same file later: its kind and its identity.

The identity (device, inode, size, mtime) is taken when a source is opened and compared with a
``stat`` before and after every later read, so a file rewritten in place, truncated, grown,
replaced by a rename or deleted is noticed at once and cheaply (no re-hashing).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass


class Kind(enum.Enum):
    """What a source path named when it was opened."""

    FILE = "regular file"
    PIPE = "pipe"
    FIFO = "FIFO"
    SOCKET = "socket"
    STDIN = "stdin"


@dataclass(frozen=True, slots=True)
class Identity:
    """What makes a file the same file: where it lives, its size and its last change."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Identity:
        """The identity in a ``stat`` result."""
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def differs(self, other: Identity) -> str | None:
        """How ``other`` differs from this identity, in words, or None when it is the same."""
        if (self.device, self.inode) != (other.device, other.inode):
            return "it was replaced by another file"
        if other.size != self.size:
            verb = "truncated" if other.size < self.size else "grew"
            return f"it {verb} from {self.size} to {other.size} bytes"
        if other.mtime_ns != self.mtime_ns:
            return "it was rewritten"
        return None
