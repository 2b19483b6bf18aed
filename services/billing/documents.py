"""An invoice as a council's accounts-payable team files it: CSV (one row per line) and PDF (fpdf2)."""
from __future__ import annotations

import csv
import io

from .domain.money import format_pence

CSV_COLUMNS = ["invoice_number", "line_no", "kind", "child_ref", "home_id", "from_date", "to_date", "days",
               "weekly_fee", "daily_rate", "amount", "currency", "refers_to_invoice", "refers_to_line",
               "description", "stream", "rate_key", "intervention_id"]


def _ref(line: dict, key: str):
    ref = line.get("refers_to")
    return "" if not ref else ref[key]


def invoice_csv(view: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in view["lines"]:
        writer.writerow([view["number"], line["line_no"], line["kind"], line["child_ref"] or "", line["home_id"] or "",
                         line["from_date"], line["to_date"], line["days"],
                         format_pence(line["weekly_pence"]) if line["weekly_pence"] else "", line["daily_rate"] or "",
                         format_pence(line["amount_pence"]), "GBP", _ref(line, "invoice_number"),
                         _ref(line, "line_no"), line["description"] or "", line.get("stream") or "",
                         line.get("rate_key") or "", line.get("intervention_id") or ""])
    writer.writerow([view["number"], "", "total", "", "", view["period_start"], view["period_end"], "", "", "",
                     format_pence(view["total_pence"]), "GBP", "", "", "", "", "", ""])
    return out.getvalue()


def invoice_pdf(view: dict, contract_name: str) -> bytes:
    from fpdf import FPDF

    title = "Credit note" if view["kind"] == "credit_note" else "Invoice"
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(f"{title} {view['number']}")
    pdf.set_author("Integrated Therapeutic Pathway")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, f"{title} {view['number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (("Council", view["la_code"]), ("Contract", contract_name),
                         ("Fee period", f"{view['period_start']} to {view['period_end']}"),
                         ("Issued", str(view["issued_at"])[:10]),
                         ("Total", f"GBP {format_pence(view['total_pence'])}")):
        pdf.cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    headings = ["#", "Kind", "Child ref", "From", "To", "Days", "Weekly", "Daily", "Amount", "Refers to"]
    widths = [8, 22, 40, 24, 24, 12, 24, 22, 28, 60]
    pdf.set_font("Helvetica", "B", 9)
    for h, w in zip(headings, widths):
        pdf.cell(w, 7, h, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for line in view["lines"]:
        ref = line.get("refers_to")
        cells = [str(line["line_no"]), line["kind"], (line["child_ref"] or ("withheld" if line.get("child_withheld") else "retainer" if line.get("stream") == "outreach" else "block"))[:24], str(line["from_date"]),
                 str(line["to_date"]), str(line["days"]),
                 format_pence(line["weekly_pence"]) if line["weekly_pence"] else "", line["daily_rate"] or "",
                 format_pence(line["amount_pence"]),
                 f"{ref['invoice_number']} line {ref['line_no']}" if ref else ""]
        for c, w in zip(cells, widths):
            pdf.cell(w, 6, c, border=1, align="R" if c and c[0].isdigit() and w <= 28 else "L")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, f"Total GBP {format_pence(view['total_pence'])}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(0, 4, "Charged by day at the weekly fee / 7; the arrival day is charged and the leaving day is "
                   "not unless the contract says otherwise. Rounding is carried across periods so that a stay's "
                   "charges add up to the charge for the whole stay. Adjustments refer to the line they correct.")
    return bytes(pdf.output())
