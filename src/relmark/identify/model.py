"""The Fellegi-Sunter model's fields, levels and candidate pairs (Splink settings).

Evidence, not rules: every field contributes a weight, learned from the store's own records
(EM, no labels) or, where EM cannot learn it (see the *_M values), set; a typo in one field
costs a little instead of vetoing the pair. Precision is measured, not assumed:
`benchmarks/identity.py` and tests/identify/test_accuracy.py.
Birthdays get a level for the slips people make typing them (one mistyped or transposed
digit, day and month swapped); names are weighed by their rarity (term frequencies); the
street is split into its number and its name.

Splink is imported inside the functions: loading it costs a second that `relmark --help`
must not pay.
"""

from __future__ import annotations

from typing import Any

#: A birthday typed with one slip: one digit wrong or two neighbours swapped (Damerau-
#: Levenshtein 1 on YYYY-MM-DD), or day and month swapped (US and European order).
BIRTHDAY_SLIP = (
    "(damerau_levenshtein(birthday_l, birthday_r) <= 1) OR ("
    "substr(birthday_l, 1, 4) = substr(birthday_r, 1, 4) "
    "AND substr(birthday_l, 6, 2) = substr(birthday_r, 9, 2) "
    "AND substr(birthday_l, 9, 2) = substr(birthday_r, 6, 2))"
)
#: Fields whose exact matches are weighed by how rare the value is.
FREQUENCY_WEIGHTED = ("first_name", "last_name", "city")
#: How often one person's two records show the same birthday, one with a slip, or another
#: one. Set, not learned: EM on a store where many strangers share a name learns "same name"
#: instead of "same person", and a different birthday then stops counting against a pair.
#: (FEBRL 2's true pairs: 93% same, 1% one slip, 6% other, where both have one.)
BIRTHDAY_M = (0.93, 0.05, 0.02)
#: Same phone, different phone. Set: records sharing a phone were merged by the exact step,
#: so among the pairs the model sees a true pair seldom has two phones, and EM would learn
#: that never (m = 0, which Splink then refuses). People do change numbers.
PHONE_M = (0.98, 0.02)
#: Same house number, another one. Set: where one source has no addresses (a shop counter),
#: EM sees the field only among strangers and cannot learn what a true pair looks like.
HOUSE_M = (0.9, 0.1)
#: How often one person's two records have first and last name the other way round.
SWAPPED_M = 0.01
#: First and last name written the other way round.
NAMES_SWAPPED = "first_name_l = last_name_r AND last_name_l = first_name_r"


def comparisons(fields: set[str]) -> list[Any]:
    """One comparison per field the records have (a field nobody filled in cannot be trained:
    EM must see each level among likely matches)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def name(column: str) -> Any:
        # common names are weak evidence: weigh exact name matches by their rarity
        return cl.CustomComparison(
            [
                cll.NullLevel(column),
                cll.ExactMatchLevel(column, term_frequency_adjustments=True),
                # rare: EM may drive its m to 0 (Splink then refuses the model), so it is set
                cll.CustomLevel(NAMES_SWAPPED, "names swapped").configure(
                    m_probability=SWAPPED_M, fix_m_probability=True
                ),
                cll.JaroWinklerLevel(column, 0.92),
                cll.ElseLevel(),
            ],
            output_column_name=column,
        )

    chosen = {
        "first_name": lambda: name("first_name"),
        "last_name": lambda: name("last_name"),
        "birthday": lambda: cl.CustomComparison(
            [
                cll.NullLevel("birthday"),
                *_set_m(
                    (
                        cll.ExactMatchLevel("birthday"),
                        cll.CustomLevel(BIRTHDAY_SLIP, "one slip"),
                        cll.ElseLevel(),
                    ),
                    BIRTHDAY_M,
                ),
            ],
            output_column_name="birthday",
        ),
        "email_local": lambda: cl.JaroWinklerAtThresholds("email_local", [0.92]),
        "phone_key": lambda: cl.CustomComparison(
            [
                cll.NullLevel("phone_key"),
                *_set_m((cll.ExactMatchLevel("phone_key"), cll.ElseLevel()), PHONE_M),
            ],
            output_column_name="phone_key",
        ),
        "city": lambda: cl.JaroWinklerAtThresholds("city", [0.9]).configure(
            term_frequency_adjustments=True
        ),
        "postcode": lambda: cl.DamerauLevenshteinAtThresholds("postcode", [1]),
        "street_number": lambda: cl.CustomComparison(
            [
                cll.NullLevel("street_number"),
                *_set_m((cll.ExactMatchLevel("street_number"), cll.ElseLevel()), HOUSE_M),
            ],
            output_column_name="street_number",
        ),
        "street": lambda: cl.JaroWinklerAtThresholds("street", [0.88]),
    }
    return [make() for field, make in chosen.items() if field in fields]


def _set_m(levels: tuple[Any, ...], m: tuple[float, ...]) -> list[Any]:
    """Levels whose m probabilities are set, not learned by EM."""
    return [
        level.configure(m_probability=p, fix_m_probability=True)
        for level, p in zip(levels, m, strict=True)
    ]


def blocking_rules() -> list[Any]:
    """Candidate pairs must share something specific: a surname alone is too common. Each
    rule catches duplicates whose other fields carry typos."""
    from splink import block_on

    return [
        block_on("last_name", "substr(first_name, 1, 1)"),
        block_on("first_name", "birthday"),
        block_on("last_name", "birthday"),
        block_on("birthday", "city"),
        block_on("birthday", "postcode"),  # a moved person keeps the birthday, not the town
        block_on("phone_key"),
        # the whole local part: what is left beyond the name ("85") is shared by thousands
        # of strangers (26 million candidate pairs on the 108k demo store)
        block_on("email_user"),
        block_on("first_name", "postcode"),
        block_on("last_name", "postcode"),
        block_on("postcode", "street_number"),
        block_on("birthday", "street_number"),
        _swapped_names(),
    ]


def _swapped_names() -> Any:
    from splink.blocking_rule_library import CustomRule

    return CustomRule("l.first_name = r.last_name AND l.last_name = r.first_name")


def train(linker: Any, fields: set[str]) -> None:
    """Unsupervised training: the prior from pairs that agree on rare combinations, u from
    random pairs, m by EM over pairs that share a birthday (every field but the birthday is
    learned there; its m is set, see BIRTHDAY_M). Without birthdays, over pairs that share
    a surname and an initial."""
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("last_name", "birthday"), block_on("first_name", "last_name", "postcode")],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    rule = (
        block_on("birthday")
        if "birthday" in fields
        else block_on("last_name", "substr(first_name, 1, 1)")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(rule)
