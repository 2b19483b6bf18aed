"""The dashboard's only assets, served from its own origin (the CSP allows 'self' and nothing else):
a stylesheet and a small script for live updates (it polls a page's fragment and swaps it in)."""
from __future__ import annotations

CSS = """
:root { --ink: #1b1b1b; --muted: #4a4a4a; --line: #b1b4b6; --bg: #f3f2f1; --card: #fff; --link: #1d4ed8;
  --focus: #ffdd00; --red: #a4161a; --amber: #7a4b00; --green: #0b6b2b; --blue: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
  background: var(--bg); }
a { color: var(--link); }
a:focus, button:focus, input:focus, select:focus, textarea:focus, main:focus-visible, summary:focus {
  outline: 3px solid var(--focus); outline-offset: 0; box-shadow: 0 0 0 5px var(--ink); }
.skip { position: absolute; left: -999px; top: 0; background: var(--focus); color: var(--ink); padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header { background: #0b0c0c; color: #fff; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem;
  padding: .5rem 1rem; }
header .brand { font-weight: 700; margin: 0; }
header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
header nav a { color: #fff; text-decoration: none; padding: .35rem .2rem; display: inline-block; }
header nav a[aria-current="page"] { border-bottom: 3px solid #fff; font-weight: 700; }
header nav a:hover { text-decoration: underline; }
.signout { margin-left: auto; display: flex; align-items: center; gap: .5rem; }
.signout .who { font-size: .9rem; }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
h1 { margin: .25rem 0 1rem; font-size: 1.6rem; }
h2 { font-size: 1.25rem; margin: 1.25rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: .5rem 0; }
.grid-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 4px; padding: .75rem 1rem; }
.card.unmatchable { border-left: 6px solid var(--red); }
.card.free { border-left: 6px solid var(--green); }
.meta { color: var(--muted); font-size: .9rem; margin: .2rem 0; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 3px; font-size: .85rem; font-weight: 600;
  border: 1px solid currentColor; margin: 0 .2rem .2rem 0; }
.badge-neutral { color: #333; background: #fff; }
.badge-red { color: #fff; background: var(--red); border-color: var(--red); }
.badge-amber { color: #fff; background: var(--amber); border-color: var(--amber); }
.badge-green { color: #fff; background: var(--green); border-color: var(--green); }
.badge-blue { color: #fff; background: var(--blue); border-color: var(--blue); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); margin: .25rem 0 1rem; }
caption { text-align: left; font-weight: 700; padding: .35rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #e8e8e8; }
.beds td, .beds th { font-size: .9rem; padding: .3rem .35rem; }
.empty { color: var(--muted); font-style: italic; }
form.inline { display: inline; }
.stack > * + * { margin-top: .6rem; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
input, select, textarea { font: inherit; padding: .35rem .45rem; border: 2px solid #0b0c0c; border-radius: 0;
  max-width: 100%; }
button, .button { font: inherit; background: #00703c; color: #fff; border: 0; padding: .45rem .9rem; cursor: pointer;
  border-radius: 2px; text-decoration: none; display: inline-block; }
button.secondary { background: #383f43; }
button.danger { background: var(--red); }
.notice { background: #e6f4ea; border-left: 6px solid var(--green); padding: .6rem 1rem; margin: 0 0 1rem; }
.warning { background: #fff4e0; border-left: 6px solid var(--amber); padding: .6rem 1rem; margin: 0 0 1rem; }
.error { background: #fdecea; border-left: 6px solid var(--red); padding: .6rem 1rem; margin: 0 0 1rem; }
.option { background: var(--card); border: 1px solid var(--line); padding: .75rem 1rem; margin-bottom: 1rem; }
.option h3 { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.clock { font-variant-numeric: tabular-nums; font-weight: 700; }
.clock.late { color: var(--red); }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 900px) { .cols { grid-template-columns: 1fr; } main { padding: .75rem; } }
.signin { max-width: 28rem; background: var(--card); padding: 1rem 1.25rem; border: 1px solid var(--line); }
.chart svg { width: 100%; height: auto; max-width: 760px; background: #fff; border: 1px solid var(--line); }
.chart figcaption { font-size: .9rem; color: var(--muted); }
.axis { stroke: #0b0c0c; } .grid { stroke: #ddd; }
.tick { font-size: 11px; fill: #333; }
.bar-even { fill: #0b6b2b; } .bar-short { fill: #b35c00; }
.cost-line { fill: none; stroke: #1d4ed8; stroke-width: 2.5; } .cost-dot { fill: #1d4ed8; }
.legend { font-size: .9rem; }
.key { display: inline-block; width: .9rem; height: .9rem; vertical-align: middle; margin-left: .6rem; }
.key-even { background: #0b6b2b; } .key-short { background: #b35c00; } .key-cost { background: #1d4ed8; }
.span-p1 { fill: #7a4b00; } .span-p2 { fill: #0b6b2b; } .span-pending { fill: #555; } .span-ended { fill: #555; }
.span-label { fill: #fff; font-size: 12px; font-weight: 700; }
.diff del { background: #fdecea; color: #7d1418; } .diff ins { background: #e6f4ea; color: #0b4d22; text-decoration: underline; }
.diff dt { font-weight: 700; margin-top: .5rem; }
.band-0 { fill: #e6f4ea; } .band-1 { fill: #fff4cc; } .band-2 { fill: #ffe0c2; } .band-3 { fill: #fbd5d5; }
.sdq-line { fill: none; stroke: #0b0c0c; stroke-width: 2.5; } .sdq-dot { fill: #1d4ed8; stroke: #fff; stroke-width: 1.5; }
.tick.value { font-weight: 700; fill: #0b0c0c; }
.bar-pos { fill: #1d4ed8; } .bar-neg { fill: #0b6b2b; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem 1rem; align-items: flex-end; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 700; }
dl.facts dd { margin: 0; }
"""

JS = """
// Live updates: a page whose <main> carries data-live polls that fragment and swaps in its live region,
// keeping focus and the reader's place (an aria-live region announces changes politely).
(function () {
  var main = document.getElementById('main');
  if (!main || !main.dataset.live) return;
  var region = document.getElementById('live');
  if (!region) return;
  function tick() {
    if (document.hidden || region.contains(document.activeElement)) return;
    fetch(main.dataset.live, {credentials: 'same-origin', headers: {'Accept': 'text/html'}})
      .then(function (r) { if (r.ok) return r.text(); if (r.status === 401) location.reload(); })
      .then(function (html) { if (html && html !== region.innerHTML) { region.innerHTML = html; } })
      .catch(function () {});
  }
  setInterval(tick, 10000);
  // crisis clocks tick every minute without a round trip
  setInterval(function () {
    document.querySelectorAll('[data-waiting]').forEach(function (el) {
      var s = parseInt(el.dataset.waiting, 10) + 60; el.dataset.waiting = s;
      var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
      el.textContent = (d ? d + 'd ' : '') + h + 'h ' + (m < 10 ? '0' : '') + m + 'm';
    });
  }, 60000);
})();
"""
