"""The durable inbox and the channel accounts around it (issue 3).

The path of a contact: webhooks.py verifies a provider's request, stores it raw in
inbound_records (unique on account + provider id) and commits before answering 2xx; tasks.py
runs processing.py on it (idempotent, one transaction: customer, ticket, message, record state).

No Celery countdown or ETA carries anything that must survive a crash: a failed attempt writes
status 'failed' and next_attempt_at to the record, and sweeper.py (a scheduler job) enqueues
what is due, and also whatever was stored but never enqueued or abandoned by a killed worker.
Outbound replies follow the same rule through outbound_deliveries (outbound.py).
"""
