"""Customer value: what each customer is worth, measured from transactions and revenue.

imports.py reads CSV and incremental records into transactions and monthly ARPU; scoring.py
computes RFM, segments, CLV, lifecycle, churn risk, the AHP value index and the tier for every
customer in set-based SQL; ahp.py and config.py hold the model (pure Python, no database);
analytics.py answers the dashboard and the retention worklist. The tier written on the customer
is what tickets snapshot and what routing, queue order and SLA policy choice read.
"""
