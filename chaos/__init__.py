"""Chaos: a load of orders while a seeded fault schedule kills and pauses fleet processes,
then a checker that proves no order was lost, stuck, double-charged or mis-stocked.

`python -m chaos --orders 40 --faults 4` (or `make chaos ORDERS=40 FAULTS=4`).
"""
