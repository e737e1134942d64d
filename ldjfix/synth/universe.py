"""The world a set of generated CRM files shares: which accounts, users and stages exist.

Account ``i`` of a universe is line ``i + 1`` of its ACCOUNT file, and its id, name and domain
are pure functions of ``(seed, i)``, so a CONTACT or DEAL file made with the same universe refers
to real accounts (and uses their email domains) without reading the ACCOUNT file.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from functools import cached_property

from ldjfix.synth import words as w

_SF_PREFIX = {"ACCOUNT": "001", "CONTACT": "003", "DEAL": "006", "BUSINESS_USER": "005"}
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SPACE = 62**5
_MASK = (1 << 64) - 1
SELLER_DOMAIN = "northstar-sales.com"
# Letters NFKD does not split into base letter + accent.
_UNACCENTED = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d"}
)


def mix(seed: int, index: int) -> int:
    """A well-spread 64-bit hash of (seed, index) (splitmix64 finaliser)."""
    z = (seed * 0x9E3779B97F4A7C15 + index * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def sf_id(object_type: str, seed: int, index: int) -> str:
    """A Salesforce-looking 15-character id, distinct for every index below 62**5."""
    prefix = _SF_PREFIX[object_type]
    salt = int(prefix, 36) * 104_729  # so account 5 and contact 5 do not share a tail
    n = (index * 387_420_489 + seed * 7_919 + salt) % _ID_SPACE  # 3**18 is coprime to 62**5
    tail = "".join(_B62[(n // 62**k) % 62] for k in range(4, -1, -1))
    return f"{prefix}Dn00000{tail}"


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents stripped), for emails/domains."""
    plain = unicodedata.normalize("NFKD", text.translate(_UNACCENTED))
    plain = plain.encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


@dataclass(frozen=True)
class Universe:
    """The accounts, users and stages that exist; files made with one universe agree."""

    seed: int
    accounts: int = 300
    users: int = 20
    stages: int = 8

    def __post_init__(self) -> None:
        if min(self.accounts, self.users, self.stages) < 1:
            raise ValueError("a universe needs at least one account, user and stage")

    def size(self, object_type: str) -> int | None:
        """How many records of a referenced type exist (None for other types)."""
        sizes = {"ACCOUNT": self.accounts, "BUSINESS_USER": self.users, "STAGE": self.stages}
        return sizes.get(object_type)

    def resized(self, object_type: str, count: int) -> Universe:
        """This universe with ``count`` records of ``object_type`` (if it is a referenced type)."""
        field = {"ACCOUNT": "accounts", "BUSINESS_USER": "users", "STAGE": "stages"}
        return replace(self, **{field[object_type]: count}) if object_type in field else self

    def account_id(self, index: int) -> str:
        """objectId of account ``index`` (an index past ``accounts`` is one that does not exist)."""
        return sf_id("ACCOUNT", self.seed, index)

    def user_id(self, index: int) -> str:
        """objectId of business user ``index``."""
        return sf_id("BUSINESS_USER", self.seed, index)

    def stage_id(self, index: int) -> str:
        """objectId of stage ``index``."""
        return f"stage-{index + 1:02d}"

    def account_name(self, index: int) -> str:
        """The company name of account ``index``."""
        h = mix(self.seed, index)
        if h % 40 == 0:
            return w.COMPANY_SPECIALS[(h >> 8) % len(w.COMPANY_SPECIALS)]
        head = w.COMPANY_HEADS[(h >> 8) % len(w.COMPANY_HEADS)]
        tail = w.COMPANY_TAILS[(h >> 16) % len(w.COMPANY_TAILS)]
        form = w.COMPANY_FORMS[(h >> 24) % len(w.COMPANY_FORMS)]
        return f"{head} {tail} {form}".rstrip()

    def account_domain(self, index: int) -> str:
        """The main web domain of account ``index``."""
        h = mix(self.seed, index)
        slug = ascii_slug(self.account_name(index).rsplit(" ", 1)[0]) or f"kk{h % 10_000}"
        return f"{slug}.{w.TLDS[(h >> 32) % len(w.TLDS)]}"

    def stage_name(self, index: int) -> str:
        """Display name of stage ``index``; the last two stages close a deal."""
        open_count = max(self.stages - 2, 0)
        if index >= open_count:
            return w.STAGE_NAMES[-2:][min(index - open_count, 1)]
        opens = w.STAGE_NAMES[:-2]
        return opens[index] if index < len(opens) else f"Stage {index + 1}"

    def is_referable(self, object_type: str, index: int) -> bool:
        """Whether clean records may refer to this one (all but the :meth:`spare` ones)."""
        return index not in self.spare(object_type)

    def spare(self, object_type: str) -> frozenset[int]:
        """A seeded fifth of a referenced type's records that nothing refers to (never index 0).

        Defects go to these first, so references from clean records always resolve.
        """
        if object_type not in self._spares:
            count = self.size(object_type) or 0
            rng = random.Random(f"{self.seed}:{object_type}:spare")
            chosen = rng.sample(range(1, count), max(count // 5, 1)) if count > 1 else []
            self._spares[object_type] = frozenset(chosen)
        return self._spares[object_type]

    @cached_property
    def _spares(self) -> dict[str, frozenset[int]]:
        return {}

    @cached_property
    def user_emails(self) -> tuple[str, ...]:
        """Email addresses of the business users, unique within the universe."""
        seen: set[str] = set()
        emails = []
        for i in range(self.users):
            h = mix(self.seed, -1 - i)
            first = ascii_slug(w.FIRST_NAMES[h % len(w.FIRST_NAMES)])
            last = ascii_slug(w.LAST_NAMES[(h >> 8) % len(w.LAST_NAMES)])
            local = f"{first}.{last}"
            if local in seen:
                local = f"{local}{i}"
            seen.add(local)
            emails.append(f"{local}@{SELLER_DOMAIN}")
        return tuple(emails)

    def pick(self, rng: random.Random, object_type: str) -> int:
        """A random referable index of a referenced type."""
        count = self.size(object_type) or 1
        while True:
            index = rng.randrange(count)
            if self.is_referable(object_type, index):
                return index

    def dangling(self, field: str, rng: random.Random) -> str:
        """An id for ``field`` that looks plausible but names no record of this universe."""
        if field == "ownerId":
            return self.user_id(self.users + rng.randrange(1, 1_000))
        if field == "stage":  # a stage's display name, the 2023 rule, is a classic mix-up
            choice = rng.randrange(self.stages)
            return self.stage_name(choice) if rng.random() < 0.5 else self.stage_id(self.stages + 2)
        if rng.random() < 0.3:  # the 18-character form of a real account's 15-character id
            return self.account_id(self.pick(rng, "ACCOUNT")) + "AAX"
        return self.account_id(self.accounts + rng.randrange(1, 1_000))
