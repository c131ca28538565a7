"""Roles per PC (operator, maintenance, quality engineer, IT) and the PIN that protects them.

Each role sees the views its guide page describes (docs/guide/operator.md, maintenance.md,
quality-engineer.md, it.md). The role is chosen per PC in the settings (``Settings.role``); a
fresh install starts as ``it`` (every view and the settings, as before roles existed: IT sets the
PC up, then picks its role). Where IT sets a PIN, every role but ``operator`` needs it, and so does
leaving the operator kiosk mode.

Why a PIN and not an OS group: a panel PC at a machine runs one shared OS session (often an
auto-logon kiosk account); the maintenance technician who walks up to it does not log on, so an OS
group cannot tell them from the operator. A PIN works there, on Windows and Linux alike, without a
domain. It is stored only as a salted scrypt hash (``hash_pin``), so it cannot be read from the
settings file. It is a lock at the screen, not against someone who can edit that file (see
docs/guide/it.md, "Roles and the PIN").

Qt-free and at the bottom of the layers: it imports nothing of cncwear_gui.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

ROLES = ("operator", "maintenance", "quality", "it")
DEFAULT_ROLE = "it"  # every view: what a PC showed before roles existed
INVALID_ROLE_FALLBACK = "operator"  # an unreadable role in the file shows the least, never the most
ROLE_NAMES = {"operator": "Operator", "maintenance": "Maintenance", "quality": "Quality engineer", "it": "IT"}

# The views (tab titles) each role's guide page describes.
VIEWS = ("Operator", "Alarms", "Data", "Predictions", "Explanations", "Training", "Monitoring")
ROLE_VIEWS = {
    "operator": ("Operator", "Alarms"),
    "maintenance": ("Operator", "Alarms", "Data", "Predictions", "Explanations", "Monitoring"),
    "quality": ("Data", "Predictions", "Explanations", "Training", "Monitoring"),
    "it": VIEWS,
}
SETTINGS_ROLES = ("maintenance", "quality", "it")  # Edit → Settings…; the operator role has none
PIN_ROLES = ("it",)  # who sets, changes or removes the PIN
KIOSK_EXIT_ROLE = "maintenance"  # leaving kiosk mode with the PIN: at least these views

PIN_MIN_DIGITS, PIN_MAX_DIGITS = 4, 12
PIN_ATTEMPTS = 3  # wrong PINs in a row before the screen waits
PIN_LOCKOUT_S = 30.0
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~16 MB and some tens of ms per check: cheap at the screen, slow for guessing


def views_of(role: str) -> tuple[str, ...]:
    return ROLE_VIEWS.get(role, ROLE_VIEWS[INVALID_ROLE_FALLBACK])


def has_settings(role: str) -> bool:
    return role in SETTINGS_ROLES


def role_problem(role: str) -> str | None:
    return None if role in ROLES else f"role must be one of {', '.join(ROLES)}"


def pin_problem(pin: str) -> str | None:
    """Why a new PIN is refused, or None: digits only (a touch keypad), 4 to 12 of them."""
    if not (pin.isascii() and pin.isdigit()):
        return "the PIN must be digits only"
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        return f"the PIN must have {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"
    return None


def hash_pin(pin: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex), with a fresh random salt."""
    if problem := pin_problem(pin):
        raise ValueError(problem)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches the stored hash. A stored value that is not a hash this module wrote
    matches nothing: a damaged PIN locks, it never opens."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), dklen=len(expected), n=int(n), r=int(r),
                                p=int(p), maxmem=2**26)
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_pin(target_role: str, pin_hash: str) -> bool:
    """Whether taking ``target_role`` needs the PIN: when one is set, every role but operator."""
    return bool(pin_hash) and target_role != "operator"


@dataclass
class PinGate:
    """The PIN checks at one screen: after ``PIN_ATTEMPTS`` wrong PINs in a row it refuses for
    ``PIN_LOCKOUT_S`` seconds without checking (guessing 10,000 four-digit PINs takes days)."""

    attempts: int = PIN_ATTEMPTS
    lockout_s: float = PIN_LOCKOUT_S
    clock: object = time.monotonic
    failures: int = 0
    locked_until: float = field(default=0.0)

    def wait_s(self) -> float:
        return max(0.0, self.locked_until - self.clock())

    def check(self, pin: str, stored: str) -> tuple[bool, str]:
        """(accepted, why not)."""
        if (wait := self.wait_s()) > 0:
            return False, f"too many wrong PINs: try again in {wait:.0f} s"
        if verify_pin(pin, stored):
            self.failures = 0
            return True, ""
        self.failures += 1
        if self.failures >= self.attempts:
            self.failures = 0
            self.locked_until = self.clock() + self.lockout_s
            return False, f"wrong PIN; {self.attempts} wrong in a row: try again in {self.lockout_s:.0f} s"
        return False, "wrong PIN"
