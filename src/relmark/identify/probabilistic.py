"""Probabilistic identity: a Fellegi-Sunter model (Splink on DuckDB, trained without labels)
over names, birthday, e-mail local part, phone, city, postcode (and optionally street).

Names are compared in one script: Kazakh and Ukrainian customers write theirs in Cyrillic and
in Latin, so every name is transliterated to Latin first (and case-folded, accents dropped).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import polars as pl
from unidecode import unidecode

from relmark.identify import model as fellegi_sunter
from relmark.identify.normalize import normalize_email
from relmark.identify.quiet import splink_to_debug

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
    return _latin(text)


@functools.lru_cache(maxsize=1 << 16)
def _latin(text: str) -> str | None:
    """Cached: names repeat (108k records carry ~3k distinct names), transliterating is not
    free."""
    folded = unidecode(unicodedata.normalize("NFKC", text).translate(SCRIPT_FIXES))
    return " ".join(folded.lower().replace("'", "").split()) or None


def email_beyond_name(local: str, first: str | None, last: str | None) -> str | None:
    """What an e-mail's local part says beyond the name ("aigerim.nurlanova85" → "85"):
    the name is compared on its own already, and strangers who share a name write the same
    "first.last"; what is left (a year, a nickname) tells them apart. None when nothing is."""
    rest = local.replace(".", "").replace("_", "").replace("-", "")
    names = [n.replace(" ", "") for n in (latin(first), latin(last)) if n]
    for name in sorted(names, key=len, reverse=True):
        rest = rest.replace(name, "", 1)
    if names and rest[:1] == names[0][:1] and (rest[1:2].isdigit() or len(rest) == 1):
        rest = rest[1:]  # "a.nurlanova85": the first name's initial
    return rest or None


#: A house number: the first run of digits, with a letter suffix ("12a").
HOUSE_NUMBER = r"\b(\d+[a-z]?)\b"


def features(records: pl.DataFrame) -> pl.DataFrame:
    """The comparison columns for records (id, first_name, last_name, birthday, email,
    phone_key, city, postcode, address); the address is split into house number and street,
    the e-mail into what it says beyond the name (compared) and its whole local part
    (blocked on)."""

    def local_part(row: dict[str, str | None]) -> str | None:
        if not row["user"]:
            return None
        return email_beyond_name(row["user"], row["first_name"], row["last_name"])

    # the e-mail's normalised local part, computed once for both columns
    user = (
        pl.col("email")
        .map_elements(lambda email: normalize_email(email).value, return_dtype=pl.String)
        .str.split_exact("@", 1)
        .struct.field("field_0")
        .alias("user")
    )
    records = records.with_columns(user)

    address = pl.col("address").map_elements(latin, return_dtype=pl.String)
    return records.select(
        pl.col("id").alias("unique_id"),
        pl.col("first_name").map_elements(latin, return_dtype=pl.String),
        pl.col("last_name").map_elements(latin, return_dtype=pl.String),
        pl.col("birthday").cast(pl.String),
        pl.struct("user", "first_name", "last_name")
        .map_elements(local_part, return_dtype=pl.String)
        .alias("email_local"),
        # the whole local part, for candidate pairs only (see model.blocking_rules)
        pl.col("user").alias("email_user"),
        pl.col("phone_key"),
        pl.col("city").map_elements(latin, return_dtype=pl.String),
        pl.col("postcode").str.replace_all(r"\s", "").str.to_uppercase(),
        address.str.extract(HOUSE_NUMBER).alias("street_number"),
        address.str.replace(HOUSE_NUMBER, "")
        .str.replace_all(r"[^\w ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .replace("", None)
        .alias("street"),
    )


def _filled(frame: pl.DataFrame) -> set[str]:
    """The fields at least one record has (a field nobody has cannot be trained)."""
    return {c for c in frame.columns if c != "unique_id" and frame[c].null_count() < frame.height}


def score_pairs(
    records: pl.DataFrame,
    *,
    threshold: float = 0.5,
    model_out: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """Candidate duplicate pairs with their match probability (at least `threshold`).

    Returns unique_id_l, unique_id_r, match_probability and, per field, the agreement level
    (gamma_*: -1 null, 0 disagree, higher = closer). The trained model goes into `model_out`
    when given, for later incremental runs (`score_new_pairs`).
    """
    from splink import Linker, SettingsCreator
    from splink.backends.duckdb import DuckDBAPI

    frame = features(records)
    fields = _filled(frame)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=fellegi_sunter.comparisons(fields),
        blocking_rules_to_generate_predictions=fellegi_sunter.blocking_rules(),
        retain_intermediate_calculation_columns=True,
    )
    with splink_to_debug():
        db = DuckDBAPI()
        table = db.register(frame.to_arrow(), table_name="records")
        linker = Linker(table, settings, log_level=None)
        fellegi_sunter.train(linker, fields)
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
    with splink_to_debug():
        is_new = pl.col("unique_id").is_in(new_ids)
        db = DuckDBAPI()
        everyone = db.register(frame.to_arrow(), table_name="records")
        existing = db.register(frame.filter(~is_new).to_arrow(), table_name="existing")
        fresh = db.register(frame.filter(is_new).to_arrow(), table_name="fresh")
        # today's candidate pairs, not those saved with the model: an older model's rules
        # may pair far more records (see model.blocking_rules)
        current = {
            **model,
            "blocking_rules_to_generate_predictions": [
                rule.create_blocking_rule_dict("duckdb") for rule in fellegi_sunter.blocking_rules()
            ],
        }
        linker = Linker(everyone, current, log_level=None)
        for column in fellegi_sunter.FREQUENCY_WEIGHTED:
            if column in frame.columns:
                linker.table_management.compute_tf_table(column)
        between = _pairs(
            linker.inference.predict_between(existing, fresh, threshold_match_probability=threshold)
        )
        within = _pairs(
            linker.inference.predict_within(fresh, threshold_match_probability=threshold)
        )
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
    merge = [(a, b, p, e) for (a, b), (p, e) in best.items() if p >= threshold]
    review = [(a, b, p, e) for (a, b), (p, e) in best.items() if review_low <= p < threshold]
    return merge, review
