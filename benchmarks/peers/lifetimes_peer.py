"""Runs inside the lifetimes virtual environment (old pandas/numpy pins); prints JSON.

python lifetimes_peer.py cdnow SUMMARY.csv       -> fits on the CDNOW summary
python lifetimes_peer.py large TRANSACTIONS.csv   -> summary + BG/NBD fit on 1M customers
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import summary_data_from_transaction_data


def timed(function, repeats=1):
    """(value, best time of `repeats` runs), as relmark is timed."""
    best, value = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - started)
    return value, best


def cdnow(path):
    data = pd.read_csv(path)
    x, tx, T = data["frequency"], data["recency"], data["T"]
    out = {}
    for name, fitter, keys in (
        ("bgnbd", BetaGeoFitter, ["r", "alpha", "a", "b"]),
        ("mbgnbd", ModifiedBetaGeoFitter, ["r", "alpha", "a", "b"]),
        ("pnbd", ParetoNBDFitter, ["r", "alpha", "s", "beta"]),
    ):
        model = fitter()
        _, seconds = timed(lambda m=model: m.fit(x, tx, T), repeats=5)
        params = {k: float(model.params_[k]) for k in keys}
        out[name] = {
            "params": params,
            "seconds": seconds,
            "expected_purchases": model.conditional_expected_number_of_purchases_up_to_time(
                39.0, x, tx, T
            ).tolist(),
            "p_alive": np.asarray(model.conditional_probability_alive(x, tx, T)).tolist(),
        }
    repeat = data[data["frequency"] > 0]
    model = GammaGammaFitter()
    _, seconds = timed(lambda: model.fit(repeat["frequency"], repeat["monetary_value"]), repeats=5)
    out["gg"] = {
        "params": {
            "p": float(model.params_["p"]),
            "q": float(model.params_["q"]),
            "gamma": float(model.params_["v"]),
        },
        "seconds": seconds,
    }
    return out


def large(path):
    transactions = pd.read_csv(path, parse_dates=["timestamp"])
    end = transactions["timestamp"].max()
    summary, summary_seconds = timed(
        lambda: summary_data_from_transaction_data(
            transactions, "customer_id", "timestamp", observation_period_end=end, freq="D"
        ),
        repeats=3,
    )
    model = BetaGeoFitter()
    _, fit_seconds = timed(
        lambda: model.fit(summary["frequency"], summary["recency"], summary["T"]), repeats=3
    )
    return {
        "summary_seconds": summary_seconds,
        "fit_seconds": fit_seconds,
        "customers": int(len(summary)),
        "params": {k: float(model.params_[k]) for k in ["r", "alpha", "a", "b"]},
    }


if __name__ == "__main__":
    task, path = sys.argv[1], sys.argv[2]
    print(json.dumps(cdnow(path) if task == "cdnow" else large(path)))
