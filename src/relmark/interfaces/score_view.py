"""How `relmark score` and `relmark customers` show a run: the model chosen and why, every
candidate's figures, and "not computed: <reason>" wherever a value is empty."""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_precision
from rich.table import Table

from relmark.differentiate.selection import MODEL_NAMES
from relmark.meaning import (
    ACTIVE_MEANING,
    P_ALIVE_MEANING,
    not_computed,
    value_label,
    value_meaning,
)


def run_json(report: Any) -> dict[str, Any]:
    """`relmark score --json`: the run, its choice of model, and why values are empty."""
    run = report.run
    return {
        "run_id": report.run_id,
        "customers": report.customers,
        "segment_changes": report.segment_changes,
        "segments": report.segments,
        "model": run["model"],
        "params": run["params"],
        "spend_params": run["spend_params"],
        "log_likelihood": run["log_likelihood"],
        "selection": run.get("selection"),
        "p_alive_reason": run.get("p_alive_reason"),
        "clv_reason": run.get("clv_reason"),
        "value": value_label(run.get("settings")),
    }


def run_lines(report: Any) -> list[str]:
    """Plain lines for a person: what was scored, with which model and why, what is empty."""
    run = report.run
    selection = run.get("selection") or {}
    chosen = MODEL_NAMES.get(run["model"], run["model"])
    params = ", ".join(f"{k} = {v:.4g}" for k, v in run["params"].items())
    lines = [
        f"scoring run {report.run_id}: {report.customers:,} customers scored; "
        f"{report.segment_changes:,} changed segment",
        "segments: " + ", ".join(f"{k} {v:,}" for k, v in report.segments.items()),
        f"purchase model: {chosen} ({params})"
        if run["model"] != "none"
        else "purchase model: none",
    ]
    if selection.get("criterion"):
        lines.append(f"chosen by: {selection['criterion']}")
    for candidate in selection.get("candidates", []):
        lines.append("  " + candidate_line(candidate))
    if selection.get("spend_note"):
        lines.append(f"spend model (Gamma-Gamma): {selection['spend_note']}")
    label = value_label(run.get("settings"))
    if run.get("p_alive_reason"):
        lines.append(f"P(alive) and expected purchases: {not_computed(run['p_alive_reason'])}")
    if run.get("clv_reason"):
        lines.append(f"lifetime value ({label}): {not_computed(run['clv_reason'])}")
    lines.append("RFM segments, revenue, profit and tiers: computed (they need no model)")
    left_out = (run.get("settings") or {}).get("restricted_left_out")
    if left_out:
        lines.append(
            f"{left_out:,} restricted customer(s) left out: not scored, their orders are "
            "no input to the models (GDPR art. 18)"
        )
    return lines


def candidate_line(candidate: dict[str, Any]) -> str:
    name = MODEL_NAMES.get(candidate["model"], candidate["model"])
    if not candidate.get("fitted"):
        return f"{name}: not fitted: {candidate.get('reason')}"
    note = f"; {candidate['note']}" if candidate.get("note") else ""
    return (
        f"{name}: log-likelihood {candidate['log_likelihood']:,.2f}, "
        f"BIC {candidate['bic']:,.2f}{note}"
    )


def customers_json(run: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row as stored, with the reason beside every empty model value."""
    return [
        {
            **row,
            "p_alive_reason": run.get("p_alive_reason") if row.get("p_alive") is None else None,
            "clv_reason": run.get("clv_reason") if row.get("clv_minor") is None else None,
        }
        for row in rows
    ]


def customers_table(run: dict[str, Any], rows: list[dict[str, Any]]) -> Table:
    currency = run["currency"]
    scale = 10 ** get_currency_precision(currency)
    table = Table(
        "customer",
        "name",
        "segment",
        "P(alive)",
        f"{value_label(run.get('settings'))}, {currency}",
        "80% interval (parameter uncertainty)",
        "profit",
        "tier",
        title=f"scoring run {run['id']} ({MODEL_NAMES.get(run['model'], run['model'])})",
    )
    for row in rows:
        interval = (
            f"{row['clv_p10_minor'] / scale:,.0f}–{row['clv_p90_minor'] / scale:,.0f}"
            if row["clv_p10_minor"] is not None and row["clv_p90_minor"] is not None
            else ""
        )
        table.add_row(
            str(row["customer_id"]),
            f"{row['first_name'] or ''} {row['last_name'] or ''}".strip(),
            row["segment"].replace("_", " "),
            "not computed" if row["p_alive"] is None else f"{row['p_alive']:.2f}",
            "not computed" if row["clv_minor"] is None else f"{row['clv_minor'] / scale:,.2f}",
            interval,
            f"{row['profit_minor'] / scale:,.2f}",
            row["profit_tier"],
        )
    return table


def customers_notes(run: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Under the table: why values are empty, what the figures mean, the first row's why."""
    notes = []
    if any(r["p_alive"] is None for r in rows):
        notes.append(f"P(alive): {not_computed(run.get('p_alive_reason'))}")
    if any(r["clv_minor"] is None for r in rows):
        notes.append(f"{value_label(run.get('settings'))}: {not_computed(run.get('clv_reason'))}")
    if any(r["clv_minor"] is not None and r["clv_p10_minor"] is None for r in rows):
        notes.append(
            "80% interval: "
            + not_computed(
                "a model answered at a limit of its parameters (see `relmark score`), where "
                "their uncertainty is not estimated, or the run was made with --draws 0"
            )
        )
    notes += [P_ALIVE_MEANING, ACTIVE_MEANING, value_meaning(run.get("settings"))]
    if rows:
        notes.append(f"customer {rows[0]['customer_id']}: {rows[0]['explanation']}")
    return notes
