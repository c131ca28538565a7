"""Roles per PC and the PIN (roles.py), and their settings (issue 26, scope 3)."""

import json
import re

import pytest
from helpers import ROOT

from cncwear_gui.roles import (
    PIN_ATTEMPTS,
    ROLE_VIEWS,
    ROLES,
    VIEWS,
    PinGate,
    hash_pin,
    needs_pin,
    pin_problem,
    verify_pin,
    views_of,
)
from cncwear_gui.settings import Settings, load_settings_report, save_settings, settings_changes

GUIDES = {"operator": "operator.md", "maintenance": "maintenance.md", "quality": "quality-engineer.md", "it": "it.md"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_views_its_guide_page_describes(role):
    """Every view a role shows is a tab its guide page names, and the page names no tab the role does not show
    (except where it says the role does not have it)."""
    page = (ROOT / "docs" / "guide" / GUIDES[role]).read_text()
    named = {view for view in VIEWS if re.search(rf"\*\*{view}\*\*", page)}
    shown = set(views_of(role))
    if role == "it":  # IT installs and checks every view; its page points to the users' pages for them
        assert shown == set(VIEWS)
        return
    assert shown <= named, f"{GUIDES[role]} does not describe {sorted(shown - named)}"
    for view in named - shown:
        assert re.search(rf"\*\*{view}\*\*[^.]*(not shown|only on)", page), \
            f"{GUIDES[role]} names the {view} tab, which the {role} role does not show, without saying so"


def test_a_pin_is_stored_salted_and_checked():
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second  # a fresh salt each time: equal PINs do not show as equal hashes
    assert "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first) and not verify_pin("", first)


@pytest.mark.parametrize("stored", ["", "2468", "scrypt$16384$8$1$zz$00", "pbkdf2$1$2$3$4$5", "scrypt$16384$8$1$00"])
def test_a_damaged_pin_hash_locks_and_never_opens(stored):
    assert not verify_pin("2468", stored)


@pytest.mark.parametrize("pin, problem", [("123", "4 to 12 digits"), ("1234567890123", "4 to 12 digits"),
                                          ("12a4", "digits only"), ("１２３４", "digits only"), ("2468", None)])
def test_a_new_pin_is_digits_for_a_keypad(pin, problem):
    assert (pin_problem(pin) is None) == (problem is None)
    if problem:
        assert problem in pin_problem(pin)
        with pytest.raises(ValueError, match=problem):
            hash_pin(pin)


def test_only_roles_above_operator_need_the_pin_and_only_when_one_is_set():
    stored = hash_pin("2468")
    assert not needs_pin("operator", stored)
    assert all(needs_pin(role, stored) for role in ROLES if role != "operator")
    assert not any(needs_pin(role, "") for role in ROLES)


def test_wrong_pins_in_a_row_lock_the_screen_for_a_while():
    now = [1000.0]
    gate = PinGate(clock=lambda: now[0])
    stored = hash_pin("2468")
    for _ in range(PIN_ATTEMPTS - 1):
        assert gate.check("1111", stored) == (False, "wrong PIN")
    accepted, why = gate.check("1111", stored)
    assert not accepted and "try again in 30 s" in why
    accepted, why = gate.check("2468", stored)  # the right PIN, but locked: not even checked
    assert not accepted and "too many wrong PINs" in why
    now[0] += 31
    assert gate.check("2468", stored) == (True, "")


def test_role_kiosk_and_pin_round_trip_through_the_settings_file(tmp_path):
    path = tmp_path / "settings.json"
    stored = hash_pin("2468")
    save_settings(Settings(role="operator", kiosk=True, role_pin_hash=stored), path)
    loaded, notices = load_settings_report(path)
    assert notices == []
    assert (loaded.role, loaded.kiosk, loaded.role_pin_hash) == ("operator", True, stored)
    assert verify_pin("2468", loaded.role_pin_hash)
    assert Settings().role == "it" and views_of(Settings().role) == VIEWS  # today's users keep every view


def test_an_unknown_role_in_the_file_shows_the_fewest_views_and_keeps_the_rest(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "role": "supervisor", "worn_threshold": 0.4, "kiosk": True}))
    loaded, notices = load_settings_report(path)
    assert loaded.role == "operator" and views_of(loaded.role) == ROLE_VIEWS["operator"]
    assert loaded.worn_threshold == 0.4 and loaded.kiosk is True
    assert any("setting role" in n and 'using "operator"' in n for n in notices)


def test_role_and_pin_changes_are_not_in_the_generic_settings_audit():
    """They have their own audit actions (settings.role_changed, settings.pin_changed); a hash never goes there."""
    old = Settings()
    new = Settings(role="operator", role_pin_hash=hash_pin("2468"), kiosk=True)
    assert [name for name, _old, _new in settings_changes(old, new)] == ["kiosk"]
