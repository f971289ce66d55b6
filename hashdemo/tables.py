"""The comparison table (PgA Table 3 / ProS-GAN Table 2 style) from attack reports, as md, csv, json or LaTeX."""

from __future__ import annotations

import csv
import io
import json

# (key, header, better: "low" | "high" | None, format)
COLUMNS = [
    ("title", "Attack", None, "{}"),
    ("map_adv", "MAP@{topk}", "low", "{:.4f}"),
    ("t_map_adv", "t-MAP@{t_topk}", "high", "{:.4f}"),
    ("perceptibility_rmse", "Perc. (RMSE)", "low", "{:.4f}"),
    ("linf_max", "L-inf (/255)", None, "{:.2f}"),
    ("steps", "Iterations", None, "{}"),
    ("seconds_per_image", "s / image", "low", "{:.4f}"),
]


def table_rows(reports: list[dict]) -> list[dict]:
    """The clean row first (the queries' own codes), one row per attack, then each target code as a query
    of its own (ProS-GAN Tables 1 and 4: "Anchor code", "Prototype code"; PgA's pharos code)."""
    if not reports:
        return []
    first = reports[0]
    common = {"protocol": first.get("protocol"), "topk": first["topk"], "t_topk": first.get("t_topk", first["topk"])}
    clean = {
        "row": "clean",
        "title": "Clean",
        "map_adv": first["map_clean"],
        "perceptibility_rmse": 0.0,
        "linf_max": 0.0,
        "steps": 0,
        "seconds_per_image": 0.0,
        **common,
    }
    targeted = [r for r in reports if r.get("targeted")]
    if targeted:
        clean["t_map_adv"] = targeted[0]["t_map_clean"]
    codes = {}
    for r in reports:
        row = r.get("target_code")
        if row and row["kind"] not in codes:
            codes[row["kind"]] = {
                "row": "code",
                "title": row["title"],
                "map_adv": row["map"],
                "t_map_adv": row.get("t_map"),
                "source": r["attack"],
                **common,
            }
    return [clean] + [{"row": "attack", **r} for r in reports] + list(codes.values())


def best_values(rows: list[dict]) -> dict[str, float]:
    """Per column with a direction, the best value among the attack rows (not clean, noise or code rows)."""
    best = {}
    for key, _, better, _ in COLUMNS:
        values = [
            r[key] for r in rows if r["row"] == "attack" and r.get(key) is not None and r.get("attack") != "noise"
        ]
        if better and values:
            best[key] = min(values) if better == "low" else max(values)
    return best


def k_text(k: int) -> str:
    return "all" if k < 0 else str(k)


def _cells(rows: list[dict], bold) -> tuple[list[str], list[list[str]]]:
    best = best_values(rows)
    headers = [h.format(topk=k_text(rows[0]["topk"]), t_topk=k_text(rows[0]["t_topk"])) for _, h, _, _ in COLUMNS]
    body = []
    for row in rows:
        cells = []
        for key, _, _, fmt in COLUMNS:
            value = row.get(key)
            text = "-" if value is None else fmt.format(value)
            cells.append(bold(text) if row["row"] == "attack" and key in best and value == best[key] else text)
        body.append(cells)
    return headers, body


def to_markdown(reports: list[dict]) -> str:
    headers, body = _cells(table_rows(reports), lambda s: f"**{s}**")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


def to_latex(reports: list[dict]) -> str:
    headers, body = _cells(table_rows(reports), lambda s: f"\\textbf{{{s}}}")
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
        return json.dumps(table_rows(reports), indent=2)
    return {"md": to_markdown, "csv": to_csv, "latex": to_latex}[fmt](reports)


def sweep_table(rows: list[dict], param: str) -> list[dict]:
    """One row per sweep point: the value, the attack, MAP, t-MAP, perceptibility, time."""
    return [
        {
            param: r["value"],
            "attack": r["title"],
            "MAP": r["map_adv"],
            "t-MAP": r.get("t_map_adv"),
            "Perc. (RMSE)": r["perceptibility_rmse"],
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
        if value is None:
            return ""
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
