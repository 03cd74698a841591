"""Demo customers: plausible names, e-mails, valid phones, addresses and dates per locale,
plus a second source (shop-counter loyalty cards) that re-registers some of them with the
variations real data has: typos, case, transliteration, other e-mail and phone formats."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import phonenumbers
import polars as pl

from relmark.demo.locales import LOCALES, LocaleData, to_latin

LANGUAGE_TAGS = {
    "en": ("en-GB", "en"),
    "ms": ("ms-MY", "ms"),
    "kk": ("kk-KZ", "kk"),
    "tl": ("tl", "fil-PH"),
    "uk": ("uk-UA", "uk"),
    "sl": ("sl-SI", "sl"),
}
PHONE_FORMATS = (
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
)


def mobile_number(rng: np.random.Generator, region: str) -> phonenumbers.PhoneNumber:
    """A valid mobile number for `region`: the example number with random trailing digits."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    for _ in range(50):
        # keep the carrier prefix, draw the rest: enough digits that strangers rarely collide
        tail = "".join(str(d) for d in rng.integers(0, 10, size=len(digits) - 2))
        candidate = phonenumbers.parse(f"+{example.country_code}{digits[:2]}{tail}")
        if (
            phonenumbers.is_valid_number(candidate)
            and phonenumbers.region_code_for_number(candidate) == region
        ):
            return candidate
    return example


def fmt_phone(number: phonenumbers.PhoneNumber, style: int) -> str:
    return phonenumbers.format_number(number, PHONE_FORMATS[style])


def _postcode(rng: np.random.Generator, locale: LocaleData, prefix: str) -> str:
    if locale.country == "GB":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return (
            f"{prefix}{rng.integers(1, 20)} {rng.integers(1, 10)}"
            f"{letters[rng.integers(0, 20)]}{letters[rng.integers(0, 20)]}"
        )
    rest = locale.postcode_digits - len(prefix)
    return prefix + "".join(str(d) for d in rng.integers(0, 10, size=max(rest, 0)))


def _email_local(rng: np.random.Generator, first: str, last: str, born: date) -> str:
    f, last_ = (to_latin(x).lower().replace(" ", "") for x in (first, last))
    style = rng.integers(0, 5)
    if style == 0:
        local = f"{f}.{last_}"
    elif style == 1:
        local = f"{f}{last_}{rng.integers(1, 100)}"
    elif style == 2:
        local = f"{f[0]}.{last_}"
    elif style == 3:
        local = f"{f}_{last_}{born.year % 100:02d}"
    else:
        local = f"{f}{born.year}"
    return "".join(c for c in local if c.isascii() and (c.isalnum() or c in "._"))


def make_customers(
    rng: np.random.Generator,
    count: int,
    as_of: datetime,
    prefix: str = "W",
    taken: set[str] | None = None,
) -> pl.DataFrame:
    """`count` customers of the web shop, spread over the six locales."""
    weights = np.array([loc.weight for loc in LOCALES])
    which = rng.choice(len(LOCALES), size=count, p=weights / weights.sum())
    female = rng.random(count) < 0.52
    ages = rng.integers(18, 76, size=count)
    signup_days = rng.integers(0, 3 * 365, size=count)
    rows = []
    used_emails: set[str] = taken if taken is not None else set()  # one address, one person
    for i in range(count):
        loc = LOCALES[which[i]]
        first = str(rng.choice(loc.female if female[i] else loc.male))
        surnames = loc.surnames_female if (female[i] and loc.surnames_female) else loc.surnames_male
        last = str(rng.choice(surnames))
        if loc.language == "kk" and rng.random() < 0.2:  # Kazakh in Latin script
            first, last = to_latin(first), to_latin(last)
        born = (as_of - timedelta(days=int(ages[i]) * 365 + int(rng.integers(0, 365)))).date()
        email = None
        if rng.random() > 0.04:
            email = f"{_email_local(rng, first, last, born)}@{rng.choice(loc.email_domains)}"
            while email in used_emails:
                email = email.replace("@", f"{rng.integers(0, 10)}@")
            used_emails.add(email)
        phone = None
        if rng.random() > 0.08:
            phone = fmt_phone(
                mobile_number(rng, loc.country), int(rng.choice(3, p=[0.6, 0.25, 0.15]))
            )
        place = loc.places[rng.integers(0, len(loc.places))]
        tags = LANGUAGE_TAGS[loc.language]
        since = as_of - timedelta(days=int(signup_days[i]), minutes=int(rng.integers(0, 1440)))
        consent = rng.choice(["yes", "no", ""], p=[0.8, 0.08, 0.12])
        rows.append(
            {
                "customer_id": f"{prefix}{i + 1:06d}",
                "email": email,
                "phone": phone,
                "first_name": first,
                "last_name": last,
                "language": tags[int(rng.random() < 0.3)],
                "country": loc.country,
                "region": place.region,
                "city": place.city,
                "postcode": _postcode(rng, loc, place.postcode_prefix),
                "address": f"{rng.choice(loc.streets)} {rng.integers(1, 200)}",
                "timezone": loc.timezone,
                "birthday": born.isoformat(),
                "customer_since": since.isoformat(timespec="seconds"),
                "email_consent": consent or None,
                "email_consent_at": since.isoformat(timespec="seconds") if consent else None,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(0, 3)
    if kind == 0:  # swap two neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop one
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double one


def _vary_name(rng: np.random.Generator, first: str, last: str) -> tuple[str, str]:
    kind = rng.integers(0, 5)
    if kind == 0:
        return first, last.upper()
    if kind == 1:
        return first, _typo(rng, last)
    if kind == 2:
        latin_first, latin_last = to_latin(first), to_latin(last)
        if (latin_first, latin_last) != (first, last):
            return latin_first, latin_last
        return _typo(rng, first), last
    if kind == 3:
        return first.lower(), last.lower()
    return _typo(rng, first), last


def make_second_source(
    rng: np.random.Generator,
    web: pl.DataFrame,
    as_of: datetime,
    share_duplicates: float = 0.05,
    share_new: float = 0.03,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Loyalty-card records: some re-register web customers (varied), some are new people.

    Returns (records, truth) where truth maps every record key to the person it is.
    """
    count = web.height
    picks = np.sort(rng.choice(count, size=int(round(count * share_duplicates)), replace=False))
    rows, truth = [], []
    for n, i in enumerate(picks):
        person = web.row(int(i), named=True)
        first, last = _vary_name(rng, person["first_name"], person["last_name"])
        email = person["email"]
        roll = rng.random()
        if email and roll < 0.45:
            email = email.upper() if rng.random() < 0.5 else f" {email} "
        elif email and roll < 0.7:
            email = None
        elif email and roll < 0.85:
            local = _email_local(
                rng,
                person["first_name"],
                person["last_name"],
                date.fromisoformat(person["birthday"]),
            )
            email = f"{local}@{rng.choice(('gmail.com', 'outlook.com'))}"
        phone = person["phone"]
        if phone and rng.random() < 0.6:
            number = phonenumbers.parse(phone, person["country"])
            phone = fmt_phone(number, int(rng.integers(0, 3)))
        elif rng.random() < 0.25:
            phone = None
        key = f"L{n + 1:06d}"
        rows.append(
            {
                **person,
                "customer_id": key,
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": phone,
                "birthday": person["birthday"] if rng.random() < 0.8 else None,
                "postcode": person["postcode"] if rng.random() < 0.7 else None,
                "address": None,
                "email_consent": None,
                "email_consent_at": None,
            }
        )
        truth.append((f"pos:{key}", f"web:{person['customer_id']}"))
    taken = set(web["email"].drop_nulls().to_list())
    extra = make_customers(rng, int(round(count * share_new)), as_of, prefix="N", taken=taken)
    offset = len(rows)
    for j, person in enumerate(extra.iter_rows(named=True)):
        key = f"L{offset + j + 1:06d}"
        # shop-counter staff type what they get: sometimes nothing, sometimes a placeholder
        email = person["email"] if rng.random() < 0.5 else rng.choice([None, None, "n/a", "-"])
        rows.append({**person, "customer_id": key, "email": email})
        truth.append((f"pos:{key}", f"pos:{key}"))
    records = pl.DataFrame(rows, schema=web.schema)
    truth_frame = pl.DataFrame(truth, schema=["key", "truth"], orient="row")
    return records, truth_frame
