"""Match keys: normalisation is idempotent, equal for what is the same, and refuses garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.identify.normalize import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (" Siti.Aminah@Example.MY ", "siti.aminah@example.my"),
        ("ＡＮＡ@ＥＸＡＭＰＬＥ.ＳＩ", "ana@example.si"),  # full-width forms (NFKC)
        ("STRASSE@bücher.de", "strasse@xn--bcher-kva.de"),
        ("Олена@ukr.net", "олена@ukr.net"),
    ],
)
def test_emails_normalise(raw: str, key: str) -> None:
    assert normalize_email(raw).value == key


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "missing"),
        ("  ", "missing"),
        ("n/a", "placeholder"),
        ("ana.example.si", "not an e-mail address"),
        ("ana@localhost", "not an e-mail address"),
        ("a b@example.com", "not an e-mail address"),
    ],
)
def test_garbage_emails_are_flagged_not_used(raw, problem: str) -> None:
    key = normalize_email(raw)
    assert key.value is None
    assert key.problem == problem


@pytest.mark.parametrize(
    ("raw", "country", "key"),
    [
        ("012-345 6789", "MY", "+60123456789"),
        ("+60 12-345 6789", None, "+60123456789"),
        ("0050 123 4567", "UA", None),
        ("050 123 4567", "UA", "+380501234567"),
        ("+7 771 000 9998", "KZ", "+77710009998"),
        ("031 234 567", "SI", "+38631234567"),
    ],
)
def test_phones_normalise_in_the_customers_country(raw: str, country, key) -> None:
    assert normalize_phone(raw, country).value == key


def test_garbage_phones_are_flagged() -> None:
    assert normalize_phone("call me", "GB").problem == "not a phone number"
    assert normalize_phone("12", "GB").problem in ("not a valid phone number", "not a phone number")


@given(st.text(max_size=40))
def test_email_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_email(raw)
    if once.value is not None:
        assert normalize_email(once.value).value == once.value


@given(
    st.from_regex(r"\+?[0-9 ()-]{6,18}", fullmatch=True),
    st.sampled_from(["GB", "MY", "KZ", "PH", "UA", "SI", None]),
)
def test_phone_normalisation_is_idempotent(raw: str, country) -> None:
    once = normalize_phone(raw, country)
    if once.value is not None:
        assert normalize_phone(once.value, country).value == once.value
        assert normalize_phone(once.value, None).value == once.value
