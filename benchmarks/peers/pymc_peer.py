"""Runs inside the pymc-marketing virtual environment; fits by MAP and prints JSON.

python pymc_peer.py cdnow SUMMARY.csv
"""

import json
import sys
import time
import warnings

import pandas as pd

warnings.filterwarnings("ignore")

from pymc_marketing import clv  # noqa: E402


def main(path):
    data = pd.read_csv(path).rename(columns={"customer_id": "customer_id"})
    data["customer_id"] = range(len(data))
    out = {}
    for name, cls, keys in (
        ("bgnbd", clv.BetaGeoModel, ["r", "alpha", "a", "b"]),
        ("pnbd", clv.ParetoNBDModel, ["r", "alpha", "s", "beta"]),
    ):
        frame = data[["customer_id", "frequency", "recency", "T"]]
        model = cls(data=frame)
        started = time.perf_counter()
        model.fit(fit_method="map")
        seconds = time.perf_counter() - started
        posterior = model.idata.posterior
        out[name] = {
            "params": {k: float(posterior[k].values.ravel()[0]) for k in keys},
            "seconds": seconds,
        }
    repeat = data[data["frequency"] > 0].copy()
    repeat["monetary_value"] = repeat["monetary_value"]
    model = clv.GammaGammaModel(data=repeat[["customer_id", "frequency", "monetary_value"]])
    started = time.perf_counter()
    model.fit(fit_method="map")
    seconds = time.perf_counter() - started
    posterior = model.idata.posterior
    out["gg"] = {
        "params": {
            "p": float(posterior["p"].values.ravel()[0]),
            "q": float(posterior["q"].values.ravel()[0]),
            "gamma": float(posterior["v"].values.ravel()[0]),
        },
        "seconds": seconds,
    }
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[2])))
