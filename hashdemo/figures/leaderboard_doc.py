"""The leaderboard as files: leaderboard.html (one self-contained page, a table sortable by any column with a few
lines of inline script, each model linking to its report) and leaderboard.json (every row, with the settings);
beside them each model's report (report_doc), built from the runs the board made (the sections the board does not
compute are listed as missing there, with the command that completes them)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..core.paths import write_atomic
from ..run.results import LeaderboardRow
from .report_doc import CSS, writable

SORT = """<script>
for (const th of document.querySelectorAll('th')) th.addEventListener('click', () => {
  const table = th.closest('table'), i = [...th.parentNode.children].indexOf(th);
  const rows = [...table.querySelectorAll('tr')].slice(1), up = th.dataset.up !== '1';
  const key = r => { const t = r.children[i].dataset.v ?? r.children[i].innerText; const n = parseFloat(t);
                     return isNaN(n) ? t : n; };
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (up ? 1 : -1));
  for (const r of rows) table.appendChild(r);
  for (const h of th.parentNode.children) h.dataset.up = '';
  th.dataset.up = up ? '1' : '0';
});
</script>"""


def folder_name(row: LeaderboardRow) -> str:
    """Where a model's report lies beside the board: its name, made safe for a path."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in row.model.name)


def to_html(rows: list[LeaderboardRow], settings: dict, ensemble: str) -> str:
    budgets = [w.eps for w in rows[0].worst] if rows else []
    head = [
        "rank",
        "model",
        "dataset",
        "backbone",
        "method",
        "bits",
        "defence",
        "clean MAP",
        *(f"worst-case MAP @{b:g}/255" for b in budgets),
        "median breaking eps (1/255)",
    ]
    lines = []
    for rank, r in enumerate(rows, 1):
        link = f"<a href='{folder_name(r)}/report.html'>{html.escape(r.label)}</a>"
        median = "inf" if r.median_breaking_eps == float("inf") else f"{r.median_breaking_eps:g}"
        cells = [
            str(rank),
            link,
            r.model.dataset,
            r.model.backbone,
            r.model.method,
            str(r.model.bits),
            r.model.defence or "none",
            f"{r.clean_map:.4f}",
            *(f"{r.worst_at(b).map:.4f}" for b in budgets),
            median,
        ]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th title='sort'>{html.escape(h)}</th>" for h in head)
    shown = "; ".join(f"{k} {v}" for k, v in settings.items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>hashdemo leaderboard</title>"
        f"<style>{CSS} th{{cursor:pointer}}</style></head><body><h1>The leaderboard of deep hashing</h1>"
        f"<p class='note'>Ranked by the worst case over the ensemble ({html.escape(ensemble)}) at the first "
        "budget: per query the lowest AP@K over the members. Click a column to sort by it; a model's name opens its "
        "report. "
        f"Settings: {html.escape(shown)}.</p><table><tr>{header}</tr>{''.join(lines)}</table>{SORT}</body></html>"
    )


def write_leaderboard(rows: list[LeaderboardRow], settings: dict, ensemble: str, out: Path) -> dict[str, Path]:
    out = writable(Path(out))
    files = {"html": out / "leaderboard.html", "json": out / "leaderboard.json"}
    payload = {
        "settings": settings,
        "ensemble": ensemble,
        "rows": [r.to_json() | {"report": f"{folder_name(r)}/report.html"} for r in rows],
    }
    write_atomic(files["json"], lambda p: p.write_text(json.dumps(payload, indent=2, default=str)))
    write_atomic(files["html"], lambda p: p.write_text(to_html(rows, settings, ensemble)))
    return files
