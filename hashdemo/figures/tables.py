"""The comparison table (PgA Table 3 / ProS-GAN Table 2 style) and the other tables, from result objects, as
Markdown, CSV, JSON or booktabs LaTeX; every export carries the settings and what was attacked."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..run.results import AttackReport, CurvePoint, LeaderboardRow, SweepRow, TransferResult

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


def table_rows(reports: list[AttackReport]) -> list[dict]:
    """The clean row first (the queries' own codes), one row per attack, then each target code as a query
    of its own (ProS-GAN Tables 1 and 4: "Anchor code", "Prototype code"; PgA's pharos code)."""
    if not reports:
        return []
    first = reports[0]
    common = {"protocol": first.protocol, "topk": first.topk, "t_topk": first.t_topk}
    clean = {
        "row": "clean",
        "title": "Clean",
        "map_adv": first.map_clean,
        "perceptibility_rmse": 0.0,
        "linf_max": 0.0,
        "steps": 0,
        "seconds_per_image": 0.0,
        **common,
    }
    targeted = [r for r in reports if r.targeted]
    if targeted:
        clean["t_map_adv"] = targeted[0].t_map_clean
    codes = {}
    for r in reports:
        row = r.target_code
        if row and row.kind not in codes:
            codes[row.kind] = {
                "row": "code",
                "title": row.title,
                "map_adv": row.map,
                "t_map_adv": row.t_map,
                "source": r.attack,
                **common,
            }
    return [clean] + [{"row": "attack", **r.to_json()} for r in reports] + list(codes.values())


def table_budget(rows: list[dict]) -> float | None:
    """The eps (1/255) of the table's iterative attacks: the budget its rows are ranked on."""
    budgets = [r["eps"] for r in rows if r["row"] == "attack" and r.get("steps")]
    return min(budgets, default=None)


def ranked(row: dict, budget: float | None) -> bool:
    """An attack row that competes for bold: not the noise baseline, and within the table's budget (an unbounded
    ProS-GAN is shown, not ranked against attacks held to eps)."""
    if row["row"] != "attack" or row.get("attack") == "noise":
        return False
    linf = row.get("linf_max")
    return budget is None or linf is None or float(linf) <= float(budget) + 1e-3


def best_values(rows: list[dict]) -> dict[str, float]:
    """Per column with a direction, the best value among the ranked attack rows (not clean, noise, code rows,
    nor an attack outside the table's budget)."""
    budget = table_budget(rows)
    best = {}
    for key, _, better, _ in COLUMNS:
        values = [r[key] for r in rows if ranked(r, budget) and r.get(key) is not None]
        if better and values:
            best[key] = min(values) if better == "low" else max(values)
    return best


def k_text(k: int) -> str:
    return "all" if k < 0 else str(k)


@dataclass
class Table:
    """A table ready to render: headers, raw cell values (None = blank), cell formats, bold cells, and the
    settings every export carries (so a table pasted into a paper says how it was made)."""

    headers: list[str]
    rows: list[list[Any]]
    formats: list[str]
    bold: set[tuple[int, int]] = field(default_factory=set)
    settings: dict[str, str] = field(default_factory=dict)
    title: str = ""
    label: str = "tab:hashdemo"  # the LaTeX \\label

    def text(self, blank: str) -> list[list[str]]:
        return [
            [blank if v is None else fmt.format(v) for v, fmt in zip(row, self.formats, strict=True)]
            for row in self.rows
        ]

    def records(self) -> list[dict[str, Any]]:
        """Rows as {header: raw value}."""
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows]

    def display_records(self) -> list[dict[str, str]]:
        """Rows as {header: formatted text}, a blank cell as "-" (for a dataframe on screen)."""
        return [dict(zip(self.headers, row, strict=True)) for row in self.text("-")]

    def settings_line(self) -> str:
        return "; ".join(f"{k} {v}" for k, v in self.settings.items())


def system_settings(system: dict) -> dict[str, str]:
    """What was attacked, for an export: dataset and split, backbone, method, bits, weights digest, device, torch."""
    return {
        "model": system["model"],
        "dataset": f"{system['dataset']} ({system['split']})",
        "backbone": system["backbone"],
        "method": system["method"],
        "bits": str(system["bits"]),
        "weights": system["weights"],
        "device": system["device"],
        "torch": system["torch"],
    }


def settings_of(reports: list[AttackReport]) -> dict[str, str]:
    """What a table of runs was made with, in the papers' units (T per attack when they differ)."""
    first = reports[0]
    steps = {r.title: r.steps for r in reports if r.steps > 1} or {r.title: r.steps for r in reports if r.steps}
    values = set(steps.values())
    if not values:
        iterations = "none (no gradient step)"
    elif len(values) == 1:
        iterations = str(values.pop())
    else:
        iterations = ", ".join(f"{t} ({title})" for title, t in steps.items())
    budget = [r for r in reports if r.steps > 0] or reports  # the budget of the iterative rows (ProS-GAN has none)
    return {
        **system_settings(first.system),
        "protocol": first.protocol,
        "queries": str(first.queries),
        "eps": f"{budget[0].eps:g}/255",
        "step": f"{budget[0].step:g}/255",
        "T": iterations,
        "MAP@K": k_text(first.topk),
        "t-MAP@K": k_text(first.t_topk),
        "seed": str(first.seed),
        "hashdemo": f"{__version__} (code {first.code_version})",
    }


@dataclass(frozen=True)
class Spread:
    """One cell over several seeds: formats as 'mean ± std' (sample std) with its column's format."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def __format__(self, spec: str) -> str:
        if len({format(v, spec) for v in self.values}) == 1:  # the same in every seed (clean MAP, iterations)
            return format(self.values[0], spec)
        return f"{format(self.mean, spec)} ± {format(self.std, spec)}"

    def __lt__(self, other: Spread) -> bool:  # the best of a column is the best mean
        return self.mean < other.mean

    def __float__(self) -> float:
        return self.mean

    def to_json(self) -> dict:
        return {"mean": round(self.mean, 6), "std": round(self.std, 6), "values": list(self.values)}


def rows_over_seeds(runs: list[list[AttackReport]]) -> list[dict]:
    """table_rows of each seed's reports (same attacks, same order), each number a Spread over the seeds."""
    per_seed = [table_rows(reports) for reports in runs]
    merged = []
    for rows in zip(*per_seed, strict=True):
        row = dict(rows[0])
        for key, value in rows[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("topk", "t_topk"):
                values = [r.get(key) for r in rows]
                row[key] = Spread(tuple(values)) if None not in values else None
        merged.append(row)
    return merged


def comparison(reports: list[AttackReport], seeds: list[list[AttackReport]] | None = None) -> Table:
    """The papers' comparison table: clean row, attacks, target-code rows; the best attack per column bold.
    With `seeds` (the same reports under other seeds, `reports` among them) each cell is mean ± std."""
    rows = rows_over_seeds(seeds) if seeds else table_rows(reports)
    best, budget = best_values(rows), table_budget(rows)
    headers = [h.format(topk=k_text(rows[0]["topk"]), t_topk=k_text(rows[0]["t_topk"])) for _, h, _, _ in COLUMNS]
    body = [[row.get(key) for key, _, _, _ in COLUMNS] for row in rows]
    bold = {
        (i, j)
        for i, row in enumerate(rows)
        for j, (key, _, _, _) in enumerate(COLUMNS)
        if ranked(row, budget) and key in best and row.get(key) == best[key]
    }
    title = "MAP (lower: stronger non-targeted attack) and t-MAP (higher: stronger targeted attack)"
    settings = settings_of(reports)
    if seeds:
        settings["seed"] = ", ".join(str(run[0].seed) for run in seeds) + " (mean ± sample std over the seeds)"
    return Table(headers, body, [fmt for _, _, _, fmt in COLUMNS], bold, settings, title)


def markdown(table: Table, with_settings: bool = True, columns: int | None = None) -> str:
    """The table in Markdown, its settings line above it (left out where a caption under it says the same); only
    its first `columns` columns when given (a projector's width)."""
    cells = table.text("-")
    for i, j in table.bold:
        cells[i][j] = f"**{cells[i][j]}**"
    keep = slice(0, columns)
    lines = [f"*{table.settings_line()}*", ""] if with_settings else []
    lines += [
        "| " + " | ".join(table.headers[keep]) + " |",
        "|" + "---|" * len(table.headers[keep]),
    ]
    return "\n".join(lines + ["| " + " | ".join(r[keep]) + " |" for r in cells])


def latex(table: Table) -> str:
    """A booktabs table with a caption that states the settings (needs \\usepackage{booktabs})."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\textbackslash{}").replace("%", "\\%").replace("_", "\\_").replace("&", "\\&")

    cells = [[esc(c) for c in row] for row in table.text("--")]
    for i, j in table.bold:
        cells[i][j] = f"\\textbf{{{cells[i][j]}}}"
    caption = esc(f"{table.title}. {table.settings_line()}.")
    lines = [
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{{caption}}}",
        f"\\label{{{table.label}}}",
        "\\begin{tabular}{l" + "r" * (len(table.headers) - 1) + "}",
        "\\toprule",
        " & ".join(esc(h) for h in table.headers) + " \\\\",
        "\\midrule",
        *(" & ".join(row) + " \\\\" for row in cells),
        "\\bottomrule",
        "\\end{tabular}",
        "\\end{table}",
    ]
    return "\n".join(lines)


def csv_text(table: Table) -> str:
    """CSV with the settings as leading '# key: value' lines (pandas: read_csv(..., comment='#')); blank = empty."""
    out = io.StringIO()
    for key, value in table.settings.items():
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headers)
    writer.writerows(table.text(""))
    return out.getvalue()


def render(
    reports: list[AttackReport], fmt: str, label: str = "tab:hashdemo", seeds: list[list[AttackReport]] | None = None
) -> str:
    if fmt == "json":
        rows = rows_over_seeds(seeds) if seeds else table_rows(reports)
        return json.dumps(rows, indent=2, default=Spread.to_json)
    table = comparison(reports, seeds)
    table.label = label
    return render_table(table, fmt)


def sweep_table(rows: list[SweepRow], param: str) -> Table:
    """One row per sweep point: the value, the attack, MAP, t-MAP, perceptibility, time."""
    headers = [param, "Attack", "MAP", "t-MAP", "Perc. (RMSE)", "s / image"]
    body = [
        [
            r.value,
            r.title,
            r.report.map_adv,
            r.report.t_map_adv,
            r.report.perceptibility_rmse,
            r.report.seconds_per_image,
        ]
        for r in rows
    ]
    settings = settings_of([r.report for r in rows]) if rows else {}
    settings.pop(param if param != "steps" else "T", None)
    return Table(
        headers,
        body,
        ["{:g}", "{}", "{:.4f}", "{:.4f}", "{:.4f}", "{:.4f}"],
        set(),
        settings,
        f"MAP and t-MAP against {param}",
    )


def render_sweep(rows: list[SweepRow], param: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps([r.to_json() for r in rows], indent=2)
    return render_table(sweep_table(rows, param), fmt)


def leaderboard_table(rows: list[LeaderboardRow], ensemble: str = "", protocol: str = "") -> Table:
    """The robustness leaderboard: one row per model, most robust first."""
    budgets = [w.eps for w in rows[0].worst] if rows else []
    headers = ["Model", "Defence", "Clean MAP", *(f"Worst-case MAP @{b:g}/255" for b in budgets), "Median breaking eps"]
    body = [
        [r.label, r.model.defence or "none", r.clean_map, *(r.worst_at(b).map for b in budgets), r.median_breaking_eps]
        for r in rows
    ]
    formats = ["{}", "{}", "{:.4f}", *("{:.4f}" for _ in budgets), "{:g}"]
    return Table(
        headers,
        body,
        formats,
        set(),
        {"ensemble": ensemble, "protocol": protocol, "breaking": "PgA from x, P@10 <= 0.2, grid of 1/255"},
        "Robustness: worst case over an ensemble of attacks per query (a tie is shared among the members)",
    )


def curve_table(rows: list[CurvePoint]) -> Table:
    """Robustness curves as a table: one row per (model, attack, eps)."""
    return Table(
        ["Model", "Attack", "eps (1/255)", "MAP / t-MAP", "Clean MAP"],
        [[r.label, r.title, r.eps, r.value, r.map_clean] for r in rows],
        ["{}", "{}", "{:g}", "{:.4f}", "{:.4f}"],
        set(),
        {},
        "MAP (t-MAP for targeted attacks) against epsilon",
    )


def render_table(table: Table, fmt: str) -> str:
    return {"md": markdown, "csv": csv_text, "latex": latex}[fmt](table)


def transfer_table(result: TransferResult) -> Table:
    """Sources (and combined perturbations) by targets: each cell the value on the target and, in brackets, the
    change from its clean value (HAG Tables IV-VI, ProS-GAN Table 3)."""
    targets = result.targets
    metric = "t-MAP" if result.targeted else "MAP"

    def cells(row: dict) -> list[str]:
        return [f"{row[t]:.4f} ({row[t] - result.clean[t]:+.4f})" for t in targets]

    body = [["clean queries", *(f"{result.clean[t]:.4f}" for t in targets)]]
    body += [[f"from {result.labels[s]}", *cells(result.values[s])] for s in result.sources]
    body += [
        [f"{name} (L-inf {result.combined_linf[name]:g}/255)", *cells(row)] for name, row in result.combined.items()
    ]
    bold = {(i + 1, j + 1) for i, s in enumerate(result.sources) for j, t in enumerate(targets) if s == t}
    return Table(
        ["perturbation \\ model attacked", *(result.labels[t] for t in targets)],
        body,
        ["{}"] * (1 + len(targets)),
        bold,
        {"attack": result.attack, "eps": f"{result.eps:g}/255", "metric": metric},
        f"Transfer: {metric} of adversarial queries made on one model and used on another "
        "(bold: white box, the model that made them)",
    )
