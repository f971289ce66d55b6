"""The comparison table (PgA Table 3 / ProS-GAN Table 2 style) from attack reports, as md, csv, json or LaTeX."""

from __future__ import annotations

import csv
import io
import json

# (key, header, better: "low" | "high" | None, format)
COLUMNS = [
    ("title", "Attack", None, "{}"),
    ("map_adv", "MAP@{topk}", "low", "{:.4f}"),
    ("t_map_adv", "t-MAP@{topk}", "high", "{:.4f}"),
    ("perceptibility_rmse", "Perc. RMSE (HAG)", "low", "{:.4f}"),
    ("perceptibility_mse", "Perc. MSE (ProS-GAN)", "low", "{:.5f}"),
    ("linf_max", "L-inf (/255)", None, "{:.2f}"),
    ("steps", "Iterations", None, "{}"),
    ("seconds_per_image", "s / image", "low", "{:.4f}"),
]


def table_rows(reports: list[dict]) -> list[dict]:
    """A clean row first (the queries' own codes), then one row per attack."""
    if not reports:
        return []
    clean = {
        "title": "Clean",
        "map_adv": reports[0]["map_clean"],
        "perceptibility_rmse": 0.0,
        "perceptibility_mse": 0.0,
        "linf_max": 0.0,
        "steps": 0,
        "seconds_per_image": 0.0,
    }
    targeted = [r for r in reports if r.get("targeted")]
    if targeted:
        clean["t_map_adv"] = targeted[0]["t_map_clean"]
    return [clean] + reports


def best_values(rows: list[dict]) -> dict[str, float]:
    """Per column with a direction, the best value among the attack rows (not the clean row)."""
    best = {}
    for key, _, better, _ in COLUMNS:
        values = [r[key] for r in rows[1:] if r.get(key) is not None and r.get("attack") != "noise"]
        if better and values:
            best[key] = min(values) if better == "low" else max(values)
    return best


def _cells(rows: list[dict], topk: int, bold) -> tuple[list[str], list[list[str]]]:
    best = best_values(rows)
    headers = [h.format(topk=topk) for _, h, _, _ in COLUMNS]
    body = []
    for i, row in enumerate(rows):
        cells = []
        for key, _, _, fmt in COLUMNS:
            value = row.get(key)
            text = "-" if value is None else fmt.format(value)
            cells.append(bold(text) if i > 0 and key in best and value == best[key] else text)
        body.append(cells)
    return headers, body


def to_markdown(reports: list[dict]) -> str:
    rows = table_rows(reports)
    headers, body = _cells(rows, reports[0]["topk"], lambda s: f"**{s}**")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


def to_latex(reports: list[dict]) -> str:
    rows = table_rows(reports)
    headers, body = _cells(rows, reports[0]["topk"], lambda s: f"\\textbf{{{s}}}")
    esc = [h.replace("%", "\\%").replace("_", "\\_") for h in headers]
    lines = ["\\begin{tabular}{l" + "r" * (len(headers) - 1) + "}", "\\toprule", " & ".join(esc) + " \\\\", "\\midrule"]
    lines += [" & ".join(c.replace("_", "\\_") for c in r) + " \\\\" for r in body]
    return "\n".join(lines + ["\\bottomrule", "\\end{tabular}"])


def to_csv(reports: list[dict]) -> str:
    rows = table_rows(reports)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([k for k, _, _, _ in COLUMNS])
    for row in rows:
        writer.writerow(["" if row.get(k) is None else row[k] for k, _, _, _ in COLUMNS])
    return out.getvalue()


def render(reports: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(reports, indent=2)
    return {"md": to_markdown, "csv": to_csv, "latex": to_latex}[fmt](reports)


def sweep_table(rows: list[dict], param: str) -> list[dict]:
    """One row per sweep point: the value, the attack, MAP, t-MAP, perceptibility, time."""
    return [
        {
            param: r["value"],
            "attack": r["title"],
            "MAP": r["map_adv"],
            "t-MAP": r.get("t_map_adv", "-"),
            "Perc. RMSE": r["perceptibility_rmse"],
            "s / image": r["seconds_per_image"],
        }
        for r in rows
    ]


def render_sweep(rows: list[dict], param: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2)
    table = sweep_table(rows, param)
    header = list(table[0]) if table else [param]

    def cell(key: str, value) -> str:
        if isinstance(value, float):
            return f"{value:g}" if key == param else f"{value:.4f}"
        return str(value)

    text = [[cell(k, v) for k, v in row.items()] for row in table]
    if fmt == "csv":
        return "\n".join(",".join(line) for line in [header] + text)
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(line) + " |" for line in text]
    )
