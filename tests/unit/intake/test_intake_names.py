"""Names people type and file names they upload (shared.text, used by intake): invisible and reordering
characters refused in names, upload names reduced to a safe base name."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain.mine_input import validate_mine
from shared import text

UNSAFE = ["\x00", "\x1b", "\x7f", "\x85", "\u200b", "\u200d", "\u200e", "\u202a", "\u202e", "\u2066", "\u2069",
          "\u2060", "\ufeff", "\u2028", "\u2029", "\ue000"]


@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
def test_invisible_and_reordering_characters_are_named(char):
    assert text.unsafe_characters(f"示范{char}煤矿") == [f"U+{ord(char):04X}"]
    reason = text.problem(f"示范{char}煤矿")
    assert reason and f"U+{ord(char):04X}" in reason and "请删除" in reason


def test_plain_names_pass_and_line_breaks_only_where_allowed():
    for name in ["鄂尔多斯示范露天煤矿（一号井田）", "Caf\u00e9 No. 1", "（蒙）FM安许证字〔2023〕0001号", "稀土·铁"]:
        assert text.problem(name) is None
    assert text.problem("两行\n文字") is not None
    assert text.problem("两行\r\n文字\t", allow_newlines=True) is None


@pytest.mark.parametrize("sent,kept", [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    ("/etc/shadow.pdf", "shadow.pdf"),
    ("C:\\Users\\x\\营业执照.pdf", "营业执照.pdf"),
    ("营业\x00执照.pdf", "营业执照.pdf"),
    ("\u202egnp.exe.pdf", "gnp.exe.pdf"),
    ("营\u200b业\ufeff执照.pdf", "营业执照.pdf"),
    ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("a\tb\nc.pdf", "a b c.pdf"),
    ("..", "附件"),
    ("", "附件"),
    (None, "附件"),
    ("/", "附件"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_upload_names_become_safe_base_names(sent, kept):
    assert text.safe_filename(sent) == kept


@given(st.text(max_size=400))
def test_a_safe_name_is_a_clean_base_name_for_any_input(name):
    safe = text.safe_filename(name)
    assert safe and len(safe) <= text.FILENAME_MAX_LENGTH
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert text.unsafe_characters(safe) == []
    assert text.normalize(safe) == safe
    assert text.safe_filename(safe) == safe          # cleaning twice changes nothing


def test_mine_names_with_hidden_characters_are_field_errors():
    mine = {"name": "示范\u202e煤矿", "minerals": [{"code": "other", "other": "稀\u200b土"}]}
    errors = {e.field: e.message for e in validate_mine(mine, date(2026, 1, 1))}
    assert "U+202E" in errors["name"] and "U+200B" in errors["minerals[0].other"]


@pytest.mark.parametrize("char", ["\u200b", "\u202e", "\x00", "\ufeff"])
def test_identifiers_with_hidden_characters_say_which_character(char):
    from intake.domain.identifiers import check_credit_code, check_mining_licence_number

    _code, problems = check_credit_code(f"91150600MA0N{char}00001W")
    assert problems and f"U+{ord(char):04X}" in problems[0]
    _number, problems = check_mining_licence_number(f"C150000201006112006{char}7890", date(2026, 1, 1))
    assert problems and f"U+{ord(char):04X}" in problems[0]
