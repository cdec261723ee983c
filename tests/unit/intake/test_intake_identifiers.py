from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from intake_builders import REAL_CREDIT_CODES

from intake.domain.identifiers import (
    CREDIT_CODE_CHARSET,
    CREDIT_CODE_WEIGHTS,
    SAFETY_LICENCE_MAX_LENGTH,
    ValidityPeriod,
    add_years,
    check_credit_code,
    check_mining_licence_number,
    check_safety_licence_number,
    credit_code_check_char,
    is_valid_credit_code,
    is_valid_mining_licence_number,
    normalise_credit_code,
    parse_date,
)

# -- 统一社会信用代码 -------------------------------------------------------------------------------------------


def test_weights_are_powers_of_three_mod_31():
    assert CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(CREDIT_CODE_CHARSET) == 31
    assert not set("IOSVZ") & set(CREDIT_CODE_CHARSET)


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_real_codes_are_valid(code):
    assert check_credit_code(code) == (code, [])
    assert credit_code_check_char(code[:17]) == code[17]


def test_check_char_computed_by_hand():
    # 91350100M000100Y4: Σ value×weight = 1: 9·1+1·3+3·9+5·27+0·19+1·26+0·16+0·17+M(21)·20+0+0+0+1·8+0+0+Y(30)·30+4·28
    first17 = "91350100M000100Y4"
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=False))
    assert total == 9 + 3 + 27 + 135 + 26 + 21 * 20 + 8 + 30 * 30 + 4 * 28
    assert CREDIT_CODE_CHARSET[31 - total % 31] == "3" == credit_code_check_char(first17)


def test_check_char_31_is_written_as_zero():
    # find a 17-char prefix whose sum is ≡ 0 (mod 31): then the check character is "0"
    base = "9115000000000000"
    for ch in CREDIT_CODE_CHARSET:
        if credit_code_check_char(base + ch) == "0":
            assert is_valid_credit_code(base + ch + "0")
            break
    else:  # pragma: no cover
        pytest.fail("no prefix with check char 0")


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check char
        "914403001922038217",
        "9144030071526726XH",
        "91330100799655058C",
    ],
)
def test_mutated_codes_are_invalid(code):
    _, problems = check_credit_code(code)
    assert problems == ["校验位不正确，请逐位核对营业执照上的代码"]


@pytest.mark.parametrize(
    "value,fragment",
    [
        (None, "不能为空"),
        ("", "不能为空"),
        ("   ", "不能为空"),
        (914403001922038216, "不能为空"),
        ("91440300192203821", "应为18位，当前为17位"),
        ("9144030019220382166", "应为18位，当前为19位"),
        ("91440300192203821O", "误写成了字母O"),
        ("9144030019220382I6", "不允许的字符 I"),
        ("91440300192203821#", "不允许的字符 #"),
        ("91A40300192203821A", "第3–8位应为数字"),
    ],
)
def test_credit_code_errors(value, fragment):
    _, problems = check_credit_code(value)
    assert len(problems) == 1 and fragment in problems[0], problems


def test_credit_code_is_normalised():
    assert normalise_credit_code(" 9144 0300-1922 0382 16 ") == "914403001922038216"
    assert check_credit_code("9144030071526726xg") == ("9144030071526726XG", [])
    # full-width, as typed with a Chinese IME
    assert check_credit_code("９１４４０３００１９２２０３８２１６") == ("914403001922038216", [])


def test_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        credit_code_check_char("123")
    with pytest.raises(ValueError):
        credit_code_check_char("9144030019220382O")


_body = st.text(alphabet=CREDIT_CODE_CHARSET, min_size=2, max_size=2)
_division = st.text(alphabet="0123456789", min_size=6, max_size=6)
_subject = st.text(alphabet=CREDIT_CODE_CHARSET, min_size=9, max_size=9)


@st.composite
def valid_codes(draw):
    first17 = draw(_body) + draw(_division) + draw(_subject)
    return first17 + credit_code_check_char(first17)


@given(valid_codes())
def test_generated_codes_are_valid(code):
    assert check_credit_code(code) == (code, [])


@given(valid_codes(), st.integers(0, 17), st.characters(codec="utf-8"))
def test_any_single_character_change_is_detected(code, pos, replacement):
    mutated = code[:pos] + replacement + code[pos + 1:]
    # a change that normalises back to the same code is not a change (lower case, full-width forms)
    assume(normalise_credit_code(mutated) != code)
    assert not is_valid_credit_code(mutated)


@given(valid_codes(), st.integers(0, 17), st.sampled_from(CREDIT_CODE_CHARSET))
def test_any_substitution_within_the_charset_is_detected(code, pos, replacement):
    assume(code[pos] != replacement)
    assert not is_valid_credit_code(code[:pos] + replacement + code[pos + 1:])


@given(valid_codes(), st.integers(0, 16))
def test_adjacent_transpositions_of_distinct_characters_are_detected(code, pos):
    assume(code[pos] != code[pos + 1])
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
    assert not is_valid_credit_code(swapped)


# -- 采矿许可证证号 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,normalised",
    [
        ("C1500002010061120067890", "C1500002010061120067890"),
        ("C1000002011031110109839", "C1000002011031110109839"),  # issued by the ministry
        ("C1506002019121110148888", "C1506002019121110148888"),  # issued by a 盟市 bureau
        ("c1500002010061120067890", "C1500002010061120067890"),
        (" C150000 2010 06 1120067890 ", "C1500002010061120067890"),
        ("Ｃ１５００００２０１００６１１２００６７８９０", "C1500002010061120067890"),
    ],
)
def test_mining_licence_numbers_accepted(value, normalised):
    assert check_mining_licence_number(value, date(2025, 7, 1)) == (normalised, [])


@pytest.mark.parametrize(
    "value,fragment",
    [
        (None, "不能为空"),
        ("", "不能为空"),
        ("T1500002010061120067890", "格式应为字母C加22位数字"),  # an exploration licence
        ("C150000201006112006789", "格式应为字母C加22位数字"),  # 21 digits
        ("C15000020100611200678901", "格式应为字母C加22位数字"),  # 23 digits
        ("1500000520018", "格式应为字母C加22位数字"),  # an old 13-digit number
        ("C15000020100611200678X0", "格式应为字母C加22位数字"),
        ("C1100002010061120067890", "发证机关代码 110000"),  # Beijing does not license Inner Mongolian mines
        ("C1500001990061120067890", "年份 1990"),
        ("C1500002030061120067890", "年份 2030"),  # after today
        ("C1500002010131120067890", "月份 13"),
        ("C1500002010001120067890", "月份 00"),
    ],
)
def test_mining_licence_number_errors(value, fragment):
    _, problems = check_mining_licence_number(value, date(2025, 7, 1))
    assert problems and fragment in problems[0], problems


def test_mining_licence_year_unbounded_without_today():
    assert is_valid_mining_licence_number("C1500002030061120067890")


# -- 安全生产许可证编号 ---------------------------------------------------------------------------------------


def test_safety_licence_number_free_text():
    assert check_safety_licence_number("  （蒙）FM安许证字〔2023〕0001号 ") == ("（蒙）FM安许证字〔2023〕0001号", [])
    assert check_safety_licence_number("(蒙)MK安许证字[2022]A001")[1] == []


@pytest.mark.parametrize(
    "value,fragment",
    [
        (None, "不能为空"),
        ("", "不能为空"),
        ("  ", "不能为空"),
        ("安" * (SAFETY_LICENCE_MAX_LENGTH + 1), "过长"),
        ("（蒙）FM安许证字\n〔2023〕0001号", "控制字符"),
    ],
)
def test_safety_licence_number_errors(value, fragment):
    _, problems = check_safety_licence_number(value)
    assert problems and fragment in problems[0]


# -- dates ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2024-01-31", "2024-1-31", "2024/01/31", "2024.1.31", "2024年1月31日", " ２０２４-０１-３１ ", date(2024, 1, 31)],
)
def test_parse_date_forms(value):
    assert parse_date(value) == date(2024, 1, 31)


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("2024-02-30", "不是有效日期"),
        ("31/01/2024", "不是可识别的日期"),
        ("明年", "不是可识别的日期"),
        ("", "不能为空"),
        (None, "不能为空"),
        (datetime(2024, 1, 31, 8, 0), "不含时间"),
    ],
)
def test_parse_date_errors(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_date(value)


def test_validity_period():
    p = ValidityPeriod(date(2023, 3, 1), date(2026, 2, 28))
    assert p.is_valid_on(date(2026, 2, 28)) and not p.is_expired(date(2026, 2, 28))
    assert p.is_expired(date(2026, 3, 1)) and not p.is_valid_on(date(2026, 3, 1))
    assert not p.is_valid_on(date(2023, 2, 28))  # not yet valid
    assert p.days_left(date(2026, 2, 1)) == 27
    assert p.days_left(date(2026, 3, 2)) == -2
    assert ValidityPeriod.from_dict(p.to_dict()) == p
    assert p.to_dict() == {"valid_from": "2023-03-01", "valid_to": "2026-02-28"}


def test_long_term_validity_never_expires():
    p = ValidityPeriod(date(2005, 6, 1), None)
    assert not p.is_expired(date(2999, 1, 1)) and p.days_left(date(2025, 1, 1)) is None
    assert ValidityPeriod.from_dict({"valid_from": "2005-06-01", "valid_to": "长期"}) == p
    assert p.to_dict() == {"valid_from": "2005-06-01", "valid_to": None}


def test_validity_period_refuses_reversed_range():
    with pytest.raises(ValueError, match="早于起始日期"):
        ValidityPeriod(date(2025, 1, 2), date(2025, 1, 1))
    assert ValidityPeriod(date(2025, 1, 1), date(2025, 1, 1)).is_valid_on(date(2025, 1, 1))


def test_add_years_handles_29_february():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2023, 7, 1), 3) == date(2026, 7, 1)
