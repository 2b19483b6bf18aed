"""Billing's pure core: money, contracts and fee schedules, periods, charging with cumulative rounding,
closing with adjustments, and viability. Imports no web, database or HTTP code."""
