"""Probabilistic identity: a Fellegi-Sunter model (Splink on DuckDB, trained without labels)
over names, birthday, e-mail local part, phone, city, postcode (and optionally street).

Names are compared in one script: Kazakh and Ukrainian customers write theirs in Cyrillic and
in Latin, so every name is transliterated to Latin first (and case-folded, accents dropped).
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

import polars as pl
from unidecode import unidecode

from relmark.identify.normalize import normalize_email

#: Cyrillic letters whose Kazakh or Ukrainian spelling unidecode renders differently from
#: how people write their own names in Latin (Ukrainian и → y, і → i; Kazakh ң → ng, ұ → u).
_FIXES = {
    "и": "y",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ғ": "gh",
    "қ": "q",
    "ң": "ng",
    "ұ": "u",
    "ү": "u",
    "ө": "o",
    "ә": "a",
    "һ": "h",
    "й": "y",
    "х": "kh",
    "ц": "ts",
}
SCRIPT_FIXES = str.maketrans({**_FIXES, **{k.upper(): v.capitalize() for k, v in _FIXES.items()}})


def latin(text: str | None) -> str | None:
    """A comparable Latin, lower-case, accent-free spelling of a name."""
    if text is None or not text.strip():
        return None
    folded = unidecode(unicodedata.normalize("NFKC", text).translate(SCRIPT_FIXES))
    return " ".join(folded.lower().replace("'", "").split()) or None


def features(records: pl.DataFrame) -> pl.DataFrame:
    """The comparison columns for records (id, first_name, last_name, birthday, email,
    phone_key, city, postcode, address)."""

    def local_part(email: str | None) -> str | None:
        key = normalize_email(email).value
        return key.split("@", 1)[0].replace(".", "") if key else None

    return records.select(
        pl.col("id").alias("unique_id"),
        pl.col("first_name").map_elements(latin, return_dtype=pl.String),
        pl.col("last_name").map_elements(latin, return_dtype=pl.String),
        pl.col("birthday").cast(pl.String),
        pl.col("email").map_elements(local_part, return_dtype=pl.String).alias("email_local"),
        pl.col("phone_key"),
        pl.col("city").map_elements(latin, return_dtype=pl.String),
        pl.col("postcode").str.replace_all(r"\s", "").str.to_uppercase(),
        pl.col("address").map_elements(latin, return_dtype=pl.String),
    )


def score_pairs(
    records: pl.DataFrame,
    *,
    threshold: float = 0.5,
    use_address: bool = False,
    model_out: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """Candidate duplicate pairs with their match probability (at least `threshold`).

    `use_address` adds a street-address comparison (off by default: a source without addresses
    leaves it untrainable). Returns unique_id_l, unique_id_r, match_probability and, per field,
    the agreement level
    (gamma_*: -1 null, 0 disagree, higher = closer). The trained model goes into `model_out`
    when given, for later incremental runs (`score_new_pairs`).
    """
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    frame = features(records)
    settings = SettingsCreator(
        link_type="dedupe_only",
        # few levels per field: every level must be seen among matches for EM to train
        comparisons=[
            # common names are weak evidence: weigh exact name matches by their rarity
            cl.JaroWinklerAtThresholds("first_name", [0.9]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("last_name", [0.9]).configure(
                term_frequency_adjustments=True
            ),
            cl.DamerauLevenshteinAtThresholds("birthday", [1]),
            cl.JaroWinklerAtThresholds("email_local", [0.92]),
            cl.ExactMatch("phone_key"),
            cl.ExactMatch("city"),
            cl.ExactMatch("postcode"),
            # the street only where every source has one: an unseen level cannot be trained
            *([cl.JaroWinklerAtThresholds("address", [0.9])] if use_address else []),
        ],
        # candidate pairs must share something specific: a surname alone is too common
        blocking_rules_to_generate_predictions=[
            block_on("last_name", "substr(first_name, 1, 1)"),
            block_on("first_name", "birthday"),
            block_on("last_name", "birthday"),
            block_on("birthday", "city"),
            block_on("birthday", "postcode"),  # a moved person keeps the birthday, not the town
            block_on("phone_key"),
            block_on("email_local"),
            block_on("first_name", "postcode"),
            block_on("last_name", "postcode"),
        ],
        retain_intermediate_calculation_columns=True,
    )
    db = DuckDBAPI()
    table = db.register(frame.to_arrow(), table_name="records")
    linker = Linker(table, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("last_name", "birthday"), block_on("email_local", "birthday")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    # each round trains the fields outside its blocking rule; both rules stay selective
    for rule in (block_on("birthday"), block_on("last_name", "substr(first_name, 1, 1)")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    if model_out is not None:
        model_out.update(_loadable(linker.misc.save_model_to_json()))
    return _pairs(predictions)


def _loadable(model: Any) -> Any:
    """Splink may save m/u probabilities that underflow (1e-315) and then refuses to load
    them; a level that rare is as good as impossible at 1e-300."""
    if isinstance(model, dict):
        return {
            k: max(v, 1e-300)
            if k in ("m_probability", "u_probability") and isinstance(v, float) and v > 0
            else _loadable(v)
            for k, v in model.items()
        }
    if isinstance(model, list):
        return [_loadable(v) for v in model]
    return model


def _pairs(predictions: Any) -> pl.DataFrame:
    scored = pl.from_arrow(predictions.as_pyarrow_table())
    assert isinstance(scored, pl.DataFrame)
    levels = [c for c in scored.columns if c.startswith("gamma_")]
    return scored.select("unique_id_l", "unique_id_r", "match_probability", *levels)


def score_new_pairs(
    records: pl.DataFrame, new_ids: list[int], model: dict[str, Any], *, threshold: float = 0.5
) -> pl.DataFrame:
    """Incremental matching: pairs between the new records and every other record, and among
    the new ones, scored by a model trained earlier (no training, no all-pairs pass).

    Name frequencies come from all records, as in a full run."""
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    frame = features(records)
    is_new = pl.col("unique_id").is_in(new_ids)
    db = DuckDBAPI()
    everyone = db.register(frame.to_arrow(), table_name="records")
    existing = db.register(frame.filter(~is_new).to_arrow(), table_name="existing")
    fresh = db.register(frame.filter(is_new).to_arrow(), table_name="fresh")
    linker = Linker(everyone, model, log_level=logging.WARNING)
    for column in ("first_name", "last_name"):
        linker.table_management.compute_tf_table(column)
    between = _pairs(
        linker.inference.predict_between(existing, fresh, threshold_match_probability=threshold)
    )
    within = _pairs(linker.inference.predict_within(fresh, threshold_match_probability=threshold))
    return pl.concat([between, within], how="vertical_relaxed")


def evidence(row: dict[str, object], top: dict[str, int]) -> dict[str, str]:
    """Which fields agreed, and how closely, from a scored pair's gamma_* levels; `top` is
    each field's highest (exact) level."""
    out = {}
    for column, level in row.items():
        if not column.startswith("gamma_") or not isinstance(level, int):
            continue
        field = column.removeprefix("gamma_")
        if level < 0:
            out[field] = "missing"
        elif level == 0:
            out[field] = "different"
        else:
            out[field] = "same" if level == top.get(column) else "similar"
    return out


def top_levels(pairs: pl.DataFrame) -> dict[str, int]:
    return {c: int(pairs[c].max() or 0) for c in pairs.columns if c.startswith("gamma_")}


def plan_probabilistic(
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    threshold: float,
    review_low: float,
    excluded: set[tuple[int, int]],
) -> tuple[
    list[tuple[int, int, float, dict[str, str]]], list[tuple[int, int, float, dict[str, str]]]
]:
    """Customer pairs to merge (probability ≥ threshold and a strong identifier agrees) and to
    review (the rest from review_low up), best record pair per customer pair; excluded pairs
    are left alone."""
    owner = dict(zip(records["id"].to_list(), records["customer_id"].to_list(), strict=True))
    top = top_levels(pairs)
    best: dict[tuple[int, int], tuple[float, dict[str, str]]] = {}
    for row in pairs.sort("match_probability", descending=True).iter_rows(named=True):
        a, b = owner.get(row["unique_id_l"]), owner.get(row["unique_id_r"])
        if a is None or b is None or a == b:
            continue
        key = (min(a, b), max(a, b))
        if key in excluded or key in best:
            continue
        best[key] = (float(row["match_probability"]), evidence(row, top))
    merge = [
        (a, b, p, e)
        for (a, b), (p, e) in best.items()
        if p >= threshold and e.get("birthday") == "same"
    ]
    review = [
        (a, b, p, e)
        for (a, b), (p, e) in best.items()
        if p >= review_low
        and _corroborated(e)
        and not (p >= threshold and e.get("birthday") == "same")
    ]
    return merge, review


def _corroborated(evidence: dict[str, str]) -> bool:
    """Names and places alone never merge, nor even reach review: people who share a common
    name and a city are not rare. To merge unseen, the birthday must be the same (e-mails and
    phones that are the same were merged by the exact step; an e-mail's local part alone is
    often a common name); to be reviewed, the birthday must at least be alike, or the phone
    the same."""
    return evidence.get("birthday") in ("same", "similar") or evidence.get("phone_key") == "same"
