import pytest

from rollwise import validate


class Bad(ValueError):
    pass


@pytest.mark.parametrize("value", [0, 1, validate.MAX_COUNT, None])
def test_counts_in_range(value):
    assert validate.count({"n": value}, "n", Bad) == (value or 0)


@pytest.mark.parametrize("value", [-1, validate.MAX_COUNT + 1, 2**63, 18446744073709551615, 1.0, True, "3", [1]])
def test_counts_out_of_range_name_the_field(value):
    with pytest.raises(Bad, match=r"\$: n must be a whole number from 0 to 1,000,000,000"):
        validate.count({"n": value}, "n", Bad, "$")


@pytest.mark.parametrize(
    "value,message",
    [
        (1e20, "must be from 0 to"),
        (-0.5, "must be from 0 to"),
        (float("inf"), "must be finite"),
        (10**400, "too large"),
        (False, "must be a number, got bool"),
    ],
)
def test_durations_are_bounded(value, message):
    with pytest.raises(Bad, match=message):
        validate.duration_ms({"d": value}, "d", Bad)


def test_identifiers_that_build_keys():
    assert validate.identifier("acme", "tenant_id", Bad, in_keys=True) == "acme"
    assert validate.identifier(17, "id", Bad, numbers=True) == "17"
    for value, message in (
        ("a#b", "must not contain '#'"),
        ("x" * 201, "over the 200-byte limit"),
        ("é" * 101, "202 bytes long"),
        ("tab\there", "control characters"),
        ("  ", "non-empty string"),
        ("\ud800", "lone surrogate"),
    ):
        with pytest.raises(Bad, match=message):
            validate.identifier(value, "tenant_id", Bad, in_keys=True)
    assert validate.identifier("W912DY#1", "noticeId", Bad) == "W912DY#1"  # an opportunity id builds no key


def test_text_must_be_writable_utf8():
    with pytest.raises(Bad, match="title is not valid Unicode text"):
        validate.text({"title": "a\udc80b"}, "title", Bad)
