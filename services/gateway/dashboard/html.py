"""HTML building blocks for the dashboard: escaping, the page layout, badges, and charts as inline SVG made on
the server (no script, no network: a chart is markup). Everything shown about a child is the council's
child reference and coded facts, never a name."""
from __future__ import annotations

import difflib
from datetime import date, datetime, timezone
from html import escape

from libs.common.vocabulary import CURRENT_SETTINGS

NAV = [  # (path, label, roles allowed)
    ("/dashboard/board", "Homes and beds", ("hub", "home_manager", "provider_admin")),
    ("/dashboard/referrals", "Referral queue", ("hub",)),
    ("/dashboard/deadlines", "Deadlines", ("hub", "home_manager")),
    ("/dashboard/finance", "Finance", ("hub", "finance")),
    ("/dashboard/outcomes", "Outcomes", ("hub", "home_manager")),  # and only with outcomes:read
    ("/dashboard/outreach", "Outreach", ("hub",)),
]
ROLE_NAMES = {"hub": "Hub team", "home_manager": "Home manager", "finance": "Finance", "provider_admin": "Provider admin"}


def e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def label(code: str | None) -> str:
    """A code as words: complex_mental_health -> Complex mental health."""
    return "" if not code else code.replace("_", " ").capitalize()


def setting(code: str | None) -> str:
    """Where a child referred for outreach lives now, in the referral vocabulary's words (ifa -> With an
    independent fostering agency's carer), never the code capitalised ("Ifa")."""
    return CURRENT_SETTINGS.get(code or "", label(code))


def badge(text: str, kind: str = "neutral") -> str:
    return f'<span class="badge badge-{e(kind)}">{e(text)}</span>'


def pounds(pence: int | None) -> str:
    if pence is None:
        return "-"
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100:,.2f}"


def waited(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return (f"{days}d " if days else "") + f"{hours}h {minutes:02d}m"


def page(title: str, body: str, *, user: dict | None, current: str = "", csrf: str = "", live: str = "") -> str:
    """The whole document. `live`: a fragment URL the page's script polls to refresh <main>'s live region."""
    nav = ""
    if user:
        here = ' aria-current="page"'
        links = "".join(f'<li><a href="{p}"{here if current == p else ""}>{e(text)}</a></li>'
                        for p, text, roles in NAV if user["role"] in roles
                        and (p != "/dashboard/outcomes" or user.get("outcomes")))
        nav = (f'<nav aria-label="Main"><ul>{links}</ul></nav>'
               f'<form method="post" action="/dashboard/sign-out" class="signout">'
               f'<input type="hidden" name="csrf" value="{e(csrf)}">'
               f'<span class="who">{e(ROLE_NAMES.get(user["role"], user["role"]))}: {e(user["client_id"])}</span> '
               f'<button type="submit">Sign out</button></form>')
    live_attr = f' data-live="{e(live)}"' if live else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} - ITP hub dashboard</title>
<link rel="stylesheet" href="/dashboard/static/app.css"><script src="/dashboard/static/app.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><p class="brand">ITP hub dashboard</p>{nav}</header>
<main id="main" tabindex="-1"{live_attr}>
<h1>{e(title)}</h1>
{body}
</main></body></html>"""


def table(caption: str, headers: list[str], rows: list[list[str]], *, empty: str = "Nothing to show.",
          cls: str = "") -> str:
    """Cells are HTML already (escape what goes in)."""
    if not rows:
        return f'<p class="empty">{e(empty)}</p>'
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="table-wrap" tabindex="0" role="region" aria-label="{e(caption)}"><table class="{e(cls)}"><caption>{e(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


# --- charts (inline SVG) ------------------------------------------------------------------------------
def viability_chart(months: list[dict], title: str) -> str:
    """Revenue (bars) against cost (line) month by month, with each month's occupancy as a figure above."""
    if not months:
        return '<p class="empty">No months to chart.</p>'
    width, height, left, bottom, top = 720, 260, 70, 40, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([m.get("revenue_pence") or 0 for m in months] + [m.get("cost_pence") or 0 for m in months] + [1])
    step = plot_w / len(months)

    def y(v: int) -> float:
        return top + plot_h - (v / peak) * plot_h

    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" class="axis"/>']
    for i in range(5):  # gridlines and the y axis in pounds
        v = peak * i / 4
        parts.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - 10}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">£{v / 100000:.0f}k</text>')
    cost_points = []
    for i, m in enumerate(months):
        x = left + i * step
        rev = m.get("revenue_pence") or 0
        cls = "bar-even" if m.get("surplus_pence") is not None and m["surplus_pence"] >= 0 else "bar-short"
        parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{y(rev):.1f}" width="{step * 0.7:.1f}" '
                     f'height="{top + plot_h - y(rev):.1f}" class="{cls}"><title>{e(str(m["month"])[:7])}: revenue '
                     f'{pounds(rev)}, cost {pounds(m.get("cost_pence"))}</title></rect>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{height - bottom + 16}" class="tick" text-anchor="middle">'
                     f'{e(str(m["month"])[5:7])}/{e(str(m["month"])[2:4])}</text>')
        if m.get("occupancy") is not None:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{top - 8}" class="tick" text-anchor="middle">'
                         f'{round(m["occupancy"] * 100)}%</text>')
        if m.get("cost_pence") is not None:
            cost_points.append(f"{x + step / 2:.1f},{y(m['cost_pence']):.1f}")
    if cost_points:
        parts.append(f'<polyline points="{" ".join(cost_points)}" class="cost-line"/>')
        parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3" class="cost-dot"/>' for p in cost_points]
    legend = ('<p class="legend"><span class="key key-even"></span> revenue at or above cost '
              '<span class="key key-short"></span> revenue below cost <span class="key key-cost"></span> cost '
              '(figures above the bars: occupancy)</p>')
    return (f'<figure class="chart"><svg viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}">'
            f'<title>{e(title)}</title>{"".join(parts)}</svg><figcaption>{e(title)}</figcaption>{legend}</figure>')


PHASE_CLASS = {"phase_1": "p1", "phase_2": "p2", "pending": "pending", "ended": "ended"}


def timeline_chart(spans: list[dict], today: date, end: date | None) -> str:
    """The phase history as a horizontal bar: Phase 1, Phase 2 (and any extension) to today or the ending."""
    if not spans:
        return '<p class="empty">Not arrived yet.</p>'
    first = date.fromisoformat(str(spans[0]["start"]))
    last = end or today
    total = max((last - first).days + 1, 1)
    width, left = 720, 10
    usable = width - 2 * left
    parts = []
    for s in spans:
        a = date.fromisoformat(str(s["start"]))
        b = date.fromisoformat(str(s["end"])) if s.get("end") else last
        x = left + (a - first).days / total * usable
        w = max((b - a).days + 1, 1) / total * usable
        cls = PHASE_CLASS.get(s["phase"], "pending")
        parts.append(f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="30" class="span-{cls}">'
                     f'<title>{e(label(s["phase"]))}: {e(a)} to {e(b)}</title></rect>'
                     f'<text x="{x + 4:.1f}" y="30" class="span-label">{e(label(s["phase"]))}</text>')
    parts.append(f'<text x="{left}" y="58" class="tick">{e(first)}</text>'
                 f'<text x="{width - left}" y="58" class="tick" text-anchor="end">{e(last)}</text>')
    desc = "; ".join(f"{label(s['phase'])} from {s['start']} to {s.get('end') or 'today'}" for s in spans)
    return (f'<figure class="chart"><svg viewBox="0 0 {width} 64" role="img" aria-label="Phase timeline: {e(desc)}">'
            f'{"".join(parts)}</svg><figcaption>Phase timeline: {e(desc)}</figcaption></figure>')


def section_diff(old: dict[str, str], new: dict[str, str]) -> str:
    """A readable diff between two plan versions: per section, words removed and added."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name) or "", new.get(name) or ""
        if a == b:
            continue
        words = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a.split(), b=b.split()).get_opcodes():
            if op == "equal":
                words.append(e(" ".join(a.split()[i1:i2])))
            if op in ("delete", "replace"):
                words.append(f'<del>{e(" ".join(a.split()[i1:i2]))}</del>')
            if op in ("insert", "replace"):
                words.append(f'<ins>{e(" ".join(b.split()[j1:j2]))}</ins>')
        out.append(f"<dt>{e(label(name))}</dt><dd>{' '.join(words)}</dd>")
    return f'<dl class="diff">{"".join(out)}</dl>' if out else '<p class="empty">No section changed.</p>'


# --- outcomes charts ----------------------------------------------------------------------------------
# The SDQ four-band categorisation of total difficulties (Youthinmind 2014, sdqinfo.org, the 4-17 tables, as
# the outcomes service's domain/sdq.py cites): the lowest score of slightly raised, high and very high.
SDQ_BAND_FLOORS: dict[str, tuple[int, int, int]] = {"parent": (14, 17, 20), "teacher": (12, 16, 19),
                                                    "self": (15, 18, 20)}
SDQ_BANDS = ("close_to_average", "slightly_raised", "high", "very_high")
SDQ_MAX = 40
INFORMANT_NAMES = {"parent": "carer (parent form)", "teacher": "teacher", "self": "young person (self-report)"}


def sdq_chart(measures: list[dict], title: str) -> str:
    """Total difficulties at each point (a line with dots) over the bands of the informant of the latest
    score (shaded, named at the right). x: the date recorded; y: 0-40 (higher is more difficulty)."""
    pts = sorted(((date.fromisoformat(str(m["recorded_on"])), m) for m in measures
                  if (m.get("sdq") or {}).get("total_difficulties") is not None), key=lambda t: t[0])
    if not pts:
        return '<p class="empty">No SDQ recorded yet.</p>'
    informant = pts[-1][1]["sdq"].get("informant") or "parent"
    floors = SDQ_BAND_FLOORS.get(informant, SDQ_BAND_FLOORS["parent"])
    width, height, left, right, top, bottom = 720, 340, 44, 136, 16, 72
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = pts[0][0], pts[-1][0]
    span = max((last - first).days, 1)

    def x(d: date) -> float:
        return left + (plot_w / 2 if len(pts) == 1 else (d - first).days / span * plot_w)

    def y(v: float) -> float:
        return top + plot_h - v / SDQ_MAX * plot_h

    parts = []
    edges = (0, *floors, SDQ_MAX + 1)
    for i, band in enumerate(SDQ_BANDS):
        lo, hi = edges[i], min(edges[i + 1], SDQ_MAX)
        parts.append(f'<rect x="{left}" y="{y(hi):.1f}" width="{plot_w}" height="{y(lo) - y(hi):.1f}" '
                     f'class="band-{i}"><title>{e(label(band))}: {lo} to {edges[i + 1] - 1}</title></rect>'
                     f'<text x="{left + plot_w + 14}" y="{(y(lo) + y(hi)) / 2 + 4:.1f}" class="tick">'
                     f'{e(label(band))} ({lo}+)</text>')
    for v in range(0, SDQ_MAX + 1, 10):
        parts.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">{v}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>')
    coords = [(x(d), y(m["sdq"]["total_difficulties"])) for d, m in pts]
    if len(coords) > 1:
        parts.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in coords)}" class="sdq-line"/>')
    row, last_x = 0, None
    for (cx, cy), (d, m) in zip(coords, pts):
        total = m["sdq"]["total_difficulties"]
        row = (row + 1) % 2 if last_x is not None and cx - last_x < 80 else 0  # close points: labels staggered
        last_x, below = cx, top + plot_h + 16 + row * 30
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" class="sdq-dot"><title>{e(label(m["timepoint"]))} '
                     f'({e(d)}): {total}, {e(label(m["sdq"].get("band")))}</title></circle>'
                     f'<text x="{cx:.1f}" y="{cy - 9:.1f}" class="tick value" text-anchor="middle">{total}</text>'
                     f'<text x="{cx:.1f}" y="{below}" class="tick" text-anchor="middle">'
                     f'{e(label(m["timepoint"]))}</text>'
                     f'<text x="{cx:.1f}" y="{below + 13}" class="tick" text-anchor="middle">{e(d)}</text>')
    desc = "; ".join(f'{label(m["timepoint"])} {d}: {m["sdq"]["total_difficulties"]} '
                     f'({label(m["sdq"].get("band"))})' for d, m in pts)
    return (f'<figure class="chart"><svg viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{e(title)}. {e(desc)}"><title>{e(title)}</title>{"".join(parts)}</svg>'
            f'<figcaption>{e(title)}; bands for the {e(INFORMANT_NAMES.get(informant, informant))}. '
            f'Lower is better.</figcaption></figure>')


def bar_chart(rows: list[tuple[str, float | None, str]], title: str, *, note: str = "") -> str:
    """Horizontal bars, one per (label, value, value as text); values may be negative (bars from a zero line).
    A row without a value shows its text and no bar."""
    if not rows:
        return '<p class="empty">Nothing to chart.</p>'
    width, left, right, bar, gap, top = 720, 200, 70, 22, 8, 8
    values = [v for _, v, _ in rows if v is not None]
    lo, hi = min(values + [0]), max(values + [0])
    if lo == hi:
        hi = lo + 1
    plot_w = width - left - right
    height = top * 2 + len(rows) * (bar + gap)

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    parts = [f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{height - top + 4}" class="axis"/>']
    for i, (name, v, text) in enumerate(rows):
        yy = top + i * (bar + gap)
        short = name if len(name) <= 28 else name[:27] + "…"
        parts.append(f'<text x="{left - 8}" y="{yy + bar * 0.7:.1f}" class="tick" text-anchor="end">{e(short)}</text>')
        if v is not None:
            a, b = sorted((x(0), x(v)))
            parts.append(f'<rect x="{a:.1f}" y="{yy}" width="{max(b - a, 1):.1f}" height="{bar}" '
                         f'class="{"bar-neg" if v < 0 else "bar-pos"}"><title>{e(name)}: {e(text)}</title></rect>')
        parts.append(f'<text x="{max(x(v if v is not None else 0), x(0)) + 6:.1f}" y="{yy + bar * 0.7:.1f}" '
                     f'class="tick value">{e(text)}</text>')
    desc = "; ".join(f"{n}: {t}" for n, _, t in rows)
    return (f'<figure class="chart"><svg viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}. {e(desc)}">'
            f'<title>{e(title)}</title>{"".join(parts)}</svg><figcaption>{e(title)}{". " + e(note) if note else ""}'
            f'</figcaption></figure>')


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
