"""居民身份证号码 (GB 11643-1999): shape, birth date, MOD 11-2 check character, masking."""
from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from public_notice.domain.identity_numbers import check_character, mask, mask_name, normalise, problem

TODAY = date(2026, 12, 1)
VALID = "11010519491231002X"      # the standard's own example
VALID_DIGIT = "440524198001010013"


def test_the_standards_examples_are_valid():
    assert problem(VALID, TODAY) is None
    assert problem(VALID_DIGIT, TODAY) is None


def test_lowercase_x_is_read_as_x():
    assert problem(VALID.lower(), TODAY) is None
    assert normalise(" 11010519491231002x ") == VALID


def test_a_wrong_check_character_is_refused():
    wrong = VALID[:17] + "1"
    assert "校验码" in problem(wrong, TODAY)
    assert "校验码" in problem(VALID_DIGIT[:17] + "5", TODAY)


def test_bad_birth_dates_are_refused():
    for birth in ("19490230", "19491331", "18991231", "20271201"):
        first17 = "110105" + birth + "002"
        assert "出生日期" in problem(first17 + check_character(first17), TODAY), birth


def test_length_and_characters():
    assert "18位" in problem("11010519491231002", TODAY)
    assert "18位" in problem(VALID + "1", TODAY)
    assert "数字" in problem("1101051949123100XX", TODAY)
    assert "请填写" in problem("", TODAY)


def test_masks_keep_only_first_six_and_last_two():
    assert mask(VALID) == "110105**********2X"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧*"


@given(area=st.integers(110000, 659999), born=st.dates(date(1900, 1, 1), TODAY), seq=st.integers(0, 999))
def test_a_generated_number_round_trips(area, born, seq):
    first17 = f"{area:06d}{born:%Y%m%d}{seq:03d}"
    number = first17 + check_character(first17)
    assert problem(number, TODAY) is None
    assert problem(number.lower(), TODAY) is None
    other = "0123456789X".replace(number[-1], "")
    assert all(problem(first17 + c, TODAY) is not None for c in other)
