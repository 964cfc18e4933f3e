"""Check characters of credit codes (GB 32100-2015), organisation codes (GB 11714) and
identity numbers (GB 11643), pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.enforcement.businesses.codes import (
    CREDIT_ALPHABET,
    credit_check_char,
    credit_code_problem,
    id_number_problem,
    org_check_char,
)

# Published credit codes of well-known companies.
REAL = ["91110108551385082Q", "914403001922038216", "9144030071526726XG", "91330100716105852F"]


@pytest.mark.parametrize("code", REAL)
def test_published_codes_check_out(code: str) -> None:
    assert credit_code_problem(code) is None
    assert credit_check_char(code[:17]) == code[17]
    # Characters 9–17 are the organisation code with its own check (GB 11714).
    assert org_check_char(code[8:16]) == code[16]


def test_what_is_wrong_with_a_code_is_said() -> None:
    assert credit_code_problem("91110108551385082") == "17 characters; a credit code has 18"
    assert "should be Q" in (credit_code_problem("91110108551385082A") or "")
    assert "administrative division" in (credit_code_problem("91I10108551385082Q") or "")
    assert credit_code_problem("91A10108551385082Q") is not None  # letters in the division
    assert id_number_problem("11010519491231002X") is None
    assert "should be X" in (id_number_problem("110105194912310021") or "")
    assert id_number_problem("1101051949123100") == "17 digits and a digit or X"
    with pytest.raises(ValueError, match="17 characters"):
        credit_check_char("9111")


body = st.text(CREDIT_ALPHABET[:2] + "59Y", min_size=1, max_size=1).flatmap(
    lambda head: st.tuples(
        st.just(head),
        st.sampled_from(list(CREDIT_ALPHABET)),
        st.text("0123456789", min_size=6, max_size=6),
        st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9),
    )
)


@given(body, st.integers(0, 17), st.sampled_from(list(CREDIT_ALPHABET)))
def test_one_changed_character_is_always_caught(
    parts: tuple[str, str, str, str], where: int, other: str
) -> None:
    head = "".join(parts)
    code = head + credit_check_char(head)
    assert credit_code_problem(code) is None
    changed = code[:where] + other + code[where + 1 :]
    if changed != code and (where not in range(2, 8) or other.isdigit()):
        # Weights 3^i mod 31 are never 0 mod 31: any one substitution changes the sum.
        assert credit_code_problem(changed) is not None
