"""Generate the benchmark data set in PostgreSQL: 6 centres, ~300 agents, ~200k customers, N tickets.

    python bench/generate_tickets.py [--tickets 1000000] [--database servicehub_bench]

1. Drops and creates the database, then runs the real Alembic migrations (flask_migrate.upgrade()).
2. Generates every table set-based in SQL (INSERT ... SELECT FROM generate_series), seeded with
   setseed() so a rerun gives the same data. Plain secondary indexes are dropped before the load
   and re-created afterwards from their exact pg_get_indexdef() text (as pg_restore does);
   primary keys and unique constraints stay in place the whole time. FK triggers are skipped during
   the load (session_replication_role = replica): the rows are consistent by construction.
3. VACUUM ANALYZE; the time of every phase goes to bench/results/generate.json.

Shape of the data (see BENCHMARKS.md): ticket ids follow created_at over one year; tickets of the
last 30 days are 75% active, older ones 25% (about 29% active overall: new/open/pending/on_hold);
front-line departments get half of each centre's tickets, Beijing and Shanghai the most;
1..5 messages per ticket (3 on average), ordered by time across tickets like a real message log.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.common import (
    AGENT_MAIL_DOMAIN,
    BENCH_PASSWORD,
    DEFAULT_DATABASE,
    DEFAULT_SERVER_URL,
    create_database,
    libpq_url,
    machine,
    make_app,
    provenance,
    write_result,
)

# (code, English name, share of all tickets in %)
CENTRES = [
    ("bj", "Beijing", 22),
    ("sh", "Shanghai", 22),
    ("gz", "Guangzhou", 18),
    ("cd", "Chengdu", 14),
    ("wh", "Wuhan", 12),
    ("xa", "Xi'an", 12),
]
# (key, English name, share of a centre's tickets in %): the front line takes half.
DEPARTMENTS = [
    ("frontline", "Front line", 50),
    ("billing", "Billing", 15),
    ("network", "Network operations", 12),
    ("complaints", "Complaints", 8),
    ("vip", "VIP service", 8),
    ("field", "Field service", 7),
]
GROUPS = [("hotline", "Hotline group"), ("online", "Online group")]  # under each front line
# (unit, department code suffix, role, headcount per centre): 51 per centre, 306 + 2 admins.
STAFFING = [
    ("supervisor", "", "supervisor", 1),
    ("frontline", "-frontline", "agent", 20),
    ("hotline", "-frontline-hotline", "agent", 6),
    ("online", "-frontline-online", "agent", 6),
    ("billing", "-billing", "back_office", 4),
    ("network", "-network", "back_office", 4),
    ("complaints", "-complaints", "back_office", 3),
    ("vip", "-vip", "agent", 4),
    ("field", "-field", "back_office", 3),
]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"]
# (subject, category): the subject gets the ticket number appended.
SUBJECTS = [
    ("Bill higher than usual this month", "billing"),
    ("Refund for double charge", "billing"),
    ("No signal at home since yesterday", "no_signal"),
    ("Broadband keeps disconnecting", "broadband_fault"),
    ("Roaming data not working abroad", "roaming"),
    ("Change to a 5G plan", "package"),
    ("Port my number to another operator", "porting"),
    ("Complaint about the service in store", "complaint"),
    ("SIM card replacement", "general"),
    ("Technician did not arrive", "field"),
    ("话费账单有误", "billing"),
    ("宽带无法连接", "broadband_fault"),
    ("国际漫游开通", "roaming"),
    ("套餐变更咨询", "package"),
    ("投诉营业厅服务态度", "complaint"),
    ("手机没有信号", "no_signal"),
]
# What customers write (inbound) and what agents write (replies and internal notes).
CUSTOMER_BODIES = [
    "Hello, I was charged twice for the same top-up on my account. Could you please check and refund the second payment? "
    "The transaction happened in the evening and both show on my bank statement.",
    "My broadband router shows a red light and the connection drops every few minutes. I already restarted it twice "
    "and checked the cables. This is affecting my work from home.",
    "您好，我这个月的话费比平时多了很多，账单里有几项增值业务我从来没有订购过，请帮我查一下并退还费用。",  # noqa: RUF001
    "I will be travelling to Japan next week for ten days. Please make sure roaming data is enabled and tell me the daily price.",
    "Still no signal in my flat on the 12th floor. Neighbours with the same operator have the same problem.",
]
AGENT_BODIES = [
    "Thanks for your patience. I have checked your account and can see the duplicate charge; a refund has been requested "
    "and should reach your card within 3 to 5 working days.",
    "Customer called back, line test shows intermittent loss on the last mile. Raising a field visit for tomorrow morning.",
    "您好，已为您核实，相关增值业务已经退订，多扣的费用将在下个账单周期返还到您的账户，请留意短信通知。",  # noqa: RUF001
    "Roaming is now active on your line. The daily pass costs 30 per day and is charged only on days you use data.",
    "Escalated to network operations: cell site 4411 reports a hardware alarm, ETA for repair is 24 hours.",
]
TAGS = ["billing", "refund", "roaming", "5g", "broadband", "vip", "complaint", "porting", "outage", "callback", "field-visit", "escalated"]

# Deterministic per-ticket numbers from its id (the same in the ticket and the message INSERTs).
MSG_COUNT = "(1 + mod(abs(hashint8({id}))::bigint, 5))"  # 1..5 messages, 3 on average
MSG_STEP = "((5 + mod(abs(hashint8({id} + 7777777))::bigint, 235)) * interval '1 minute')"  # 5..239 min between messages

COUNTED_TABLES = ["departments", "agents", "department_memberships", "customers", "contact_identities", "tickets", "messages"]
COUNTED_TABLES += ["ticket_tags", "ticket_invitations"]
SECONDARY_TABLES = ["tickets", "messages", "ticket_tags", "ticket_invitations", "customers", "contact_identities"]


class PhaseTimer:
    """Times named phases, prints each as it ends, keeps them for the result file."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"[generate] {name} ...", flush=True)
        started = time.perf_counter()
        yield
        self.phases[name] = round(time.perf_counter() - started, 2)
        print(f"[generate] {name}: {self.phases[name]:.1f} s", flush=True)


def run_migrations(server_url: str, database: str) -> None:
    from flask_migrate import upgrade

    app = make_app(server_url, database)
    with app.app_context():
        upgrade()
        from service_hub.core.extensions import db

        db.engine.dispose()


def hash_once() -> str:
    """One argon2 hash computed with the app's own hasher, reused for every agent."""
    from service_hub.auth.passwords import hash_password

    return hash_password(BENCH_PASSWORD)


def drop_secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Drop plain indexes (not those behind a primary key or unique constraint); return their DDL."""
    rows = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [SECONDARY_TABLES],
    ).fetchall()
    for name, _ddl in rows:
        conn.execute(f"DROP INDEX {name}")
    return [(str(name), str(ddl)) for name, ddl in rows]


def create_organisation(conn: psycopg.Connection[Any], password_hash: str) -> None:
    """Centres, their six departments, two front-line groups each, agents and memberships."""
    conn.execute(
        """
        INSERT INTO departments (code, name, kind, parent_id, is_active, created_at)
        SELECT c.code, c.en || ' Centre', 'centre', NULL, true, now() - interval '2 years'
        FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS c(code, en, ord) ORDER BY c.ord
        """,
        [[c[0] for c in CENTRES], [c[1] for c in CENTRES]],
    )
    conn.execute(
        """
        INSERT INTO departments (code, name, kind, parent_id, is_active, created_at)
        SELECT c.code || '-' || d.key, c.name || ' / ' || d.en, 'department', c.id, true, c.created_at
        FROM departments c CROSS JOIN unnest(%s::text[], %s::text[]) WITH ORDINALITY AS d(key, en, ord)
        WHERE c.kind = 'centre' ORDER BY c.id, d.ord
        """,
        [[d[0] for d in DEPARTMENTS], [d[1] for d in DEPARTMENTS]],
    )
    conn.execute(
        """
        INSERT INTO departments (code, name, kind, parent_id, is_active, created_at)
        SELECT f.code || '-' || g.key, f.name || ' / ' || g.en, 'group', f.id, true, f.created_at
        FROM departments f CROSS JOIN unnest(%s::text[], %s::text[]) WITH ORDINALITY AS g(key, en, ord)
        WHERE f.code LIKE '%%-frontline' ORDER BY f.id, g.ord
        """,
        [[g[0] for g in GROUPS], [g[1] for g in GROUPS]],
    )
    conn.execute(
        """
        INSERT INTO agents (email, name, password_hash, role, skills, languages, capacity, presence, is_active,
                            session_generation, created_at)
        SELECT c.code || '.' || s.unit || n || '@' || %(domain)s,
               (%(surnames)s::text[])[1 + floor(random() * cardinality(%(surnames)s::text[]))::int]
                 || (%(given)s::text[])[1 + floor(random() * cardinality(%(given)s::text[]))::int],
               %(hash)s, s.role, '[]'::jsonb, '["zh"]'::jsonb, CASE s.role WHEN 'supervisor' THEN 3 ELSE 8 END,
               (ARRAY['online', 'away', 'offline'])[1 + floor(random() * 3)::int], true, 0, c.created_at
        FROM departments c
        CROSS JOIN unnest(%(units)s::text[], %(roles)s::text[], %(heads)s::int[]) WITH ORDINALITY AS s(unit, role, headcount, ord)
        CROSS JOIN LATERAL generate_series(1, s.headcount) AS n
        WHERE c.kind = 'centre' ORDER BY c.id, s.ord, n
        """,
        {
            "domain": AGENT_MAIL_DOMAIN,
            "surnames": SURNAMES,
            "given": GIVEN,
            "hash": password_hash,
            "units": [s[0] for s in STAFFING],
            "roles": [s[2] for s in STAFFING],
            "heads": [s[3] for s in STAFFING],
        },
    )
    conn.execute(
        """
        INSERT INTO agents (email, name, password_hash, role, skills, languages, capacity, presence, is_active,
                            session_generation, created_at)
        SELECT a.local || '@' || %s, a.name, %s, 'admin', '[]'::jsonb, '["zh", "en"]'::jsonb, 0, 'offline', true, 0, now()
        FROM (VALUES ('admin', 'Admin'), ('it.admin', 'IT Admin')) AS a(local, name)
        """,
        [AGENT_MAIL_DOMAIN, password_hash],
    )
    # Membership from the e-mail's local part: "<centre>.<unit><n>" -> department "<centre><suffix>".
    conn.execute(
        """
        INSERT INTO department_memberships (agent_id, department_id, is_lead)
        SELECT a.id, d.id, substring(p.local FROM '\\d+$') = '1'
        FROM agents a
        CROSS JOIN LATERAL (SELECT split_part(a.email, '@', 1) AS local) p
        JOIN unnest(%s::text[], %s::text[]) AS s(unit, suffix) ON s.unit = regexp_replace(split_part(p.local, '.', 2), '\\d+$', '')
        JOIN departments d ON d.code = split_part(p.local, '.', 1) || s.suffix
        WHERE a.role <> 'admin'
        """,
        [[s[0] for s in STAFFING], [s[1] for s in STAFFING]],
    )
    conn.execute(
        """
        INSERT INTO department_memberships (agent_id, department_id, is_lead)
        SELECT a.id, d.id, false FROM agents a JOIN departments d ON d.code = 'bj' WHERE a.role = 'admin'
        """
    )
    # Who may be assigned a department's tickets: its members and the members of its groups.
    conn.execute(
        """
        CREATE TEMP TABLE dept_agents AS
        SELECT CASE WHEN d.kind = 'group' THEN d.parent_id ELSE d.id END AS department_id,
               array_agg(m.agent_id ORDER BY m.agent_id) AS agent_ids
        FROM department_memberships m JOIN departments d ON d.id = m.department_id
        WHERE d.kind <> 'centre' GROUP BY 1
        """
    )
    conn.execute("CREATE UNIQUE INDEX ON dept_agents (department_id)")


def create_customers(conn: psycopg.Connection[Any], customers: int, now: datetime) -> None:
    """Customers with a tier mix (80% normal) and 1..3 contact identities each (phone always)."""
    conn.execute(
        """
        INSERT INTO customers (id, customer_number, name, language, tier, notes, attributes, merged_into_id, created_at, updated_at)
        SELECT g, 'C' || lpad(g::text, 9, '0'),
               (%(surnames)s::text[])[1 + floor(random() * cardinality(%(surnames)s::text[]))::int]
                 || (%(given)s::text[])[1 + floor(random() * cardinality(%(given)s::text[]))::int]
                 || (%(given)s::text[])[1 + floor(random() * cardinality(%(given)s::text[]))::int],
               CASE WHEN random() < 0.1 THEN 'en' ELSE 'zh' END,
               (ARRAY['diamond', 'gold', 'silver', 'vip', 'normal'])[width_bucket(random(), ARRAY[0, 0.02, 0.06, 0.12, 0.20])],
               NULL,
               jsonb_build_object('plan', (ARRAY['5G Basic', '5G Plus', '4G Value', 'Family Share'])[1 + mod(g, 4)]),
               NULL, c.at, c.at
        FROM generate_series(1, %(n)s) AS g
        CROSS JOIN LATERAL (SELECT %(now)s::timestamptz - random() * interval '5 years' AS at) c
        """,
        {"surnames": SURNAMES, "given": GIVEN, "n": customers, "now": now},
    )
    conn.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))")
    conn.execute(
        """
        INSERT INTO contact_identities (customer_id, kind, account, value, display_value, verified, created_at)
        SELECT c.id, i.kind, i.account, i.value, i.display, true, c.created_at
        FROM customers c
        CROSS JOIN LATERAL (VALUES
            ('phone', '', '+86138' || lpad(c.id::text, 8, '0'), '+86 138 ' || lpad(c.id::text, 8, '0'), true),
            ('email', '', 'c' || c.id || '@example.cn', NULL, mod(c.id, 5) < 3),
            ('wechat', 'wx-official', 'o' || md5(c.id::text), NULL, mod(c.id, 5) < 2)
        ) AS i(kind, account, value, display, wanted)
        WHERE i.wanted
        ORDER BY c.id
        """
    )


def _department_buckets(conn: psycopg.Connection[Any]) -> tuple[list[int], list[float]]:
    """Department ids and the lower bounds of their share of [0, 1), for width_bucket()."""
    ids = dict(conn.execute("SELECT code, id FROM departments WHERE kind = 'department'").fetchall())
    dept_ids: list[int] = []
    bounds: list[float] = []
    cumulative = 0.0
    for centre, _name, centre_share in CENTRES:
        for key, _en, dept_share in DEPARTMENTS:
            dept_ids.append(int(ids[f"{centre}-{key}"]))
            bounds.append(cumulative)
            cumulative += centre_share * dept_share / 10_000
    assert abs(cumulative - 1.0) < 1e-9
    return dept_ids, bounds


def create_tickets(conn: psycopg.Connection[Any], tickets: int, customers: int, now: datetime) -> None:
    """Tickets in created_at order over the last year, each with status, priority, SLA clocks, assignee."""
    dept_ids, bounds = _department_buckets(conn)
    step = MSG_STEP.format(id="s.id")
    inner_count, inner_step = MSG_COUNT.format(id="b.id"), MSG_STEP.format(id="b.id")
    conn.execute(
        f"""
        INSERT INTO tickets (id, number, subject, status, priority, channel, customer_id, department_id, assignee_id, tier,
                             first_response_due_at, resolution_due_at, next_due_at, first_responded_at, solved_at, closed_at,
                             custom_fields, version, created_at, updated_at, last_message_at)
        SELECT s.id, 100000 + s.id,
               (%(subjects)s::text[])[s.topic] || ' (#' || (100000 + s.id) || ')',
               s.status, s.priority, s.channel, s.customer_id, s.department_id,
               CASE WHEN s.r_assign < CASE s.status WHEN 'new' THEN 0.3 WHEN 'open' THEN 0.85
                                                    WHEN 'pending' THEN 0.9 WHEN 'on_hold' THEN 0.9 ELSE 0.97 END
                    THEN da.agent_ids[1 + floor(s.r_agent * cardinality(da.agent_ids))::int] END,
               s.tier,
               s.first_due, s.resolution_due,
               CASE s.status WHEN 'new' THEN s.first_due WHEN 'open' THEN s.resolution_due END,
               CASE WHEN s.status <> 'new' THEN least(s.created_at + {step}, %(now)s) END,
               CASE WHEN s.status IN ('solved', 'closed') THEN s.last_at END,
               CASE WHEN s.status = 'closed' THEN least(s.last_at + interval '2 days', %(now)s) END,
               jsonb_build_object('category', (%(categories)s::text[])[s.topic], 'language', 'zh'),
               1, s.created_at,
               CASE WHEN s.status = 'closed' THEN least(s.last_at + interval '2 days', %(now)s) ELSE s.last_at END,
               s.last_at
        FROM (
            SELECT b.*,
                   CASE WHEN b.r_status < b.p_active
                        THEN (ARRAY['new', 'open', 'pending', 'on_hold'])[width_bucket(b.r_status / b.p_active, ARRAY[0, 0.2, 0.6, 0.87])]
                        WHEN b.created_at > %(now)s::timestamptz - interval '10 days' THEN 'solved'
                        ELSE 'closed' END AS status,
                   CASE WHEN c.tier IN ('diamond', 'gold', 'vip') THEN greatest(b.base_priority, 3) ELSE b.base_priority END AS priority,
                   c.tier,
                   b.created_at + (ARRAY[24, 8, 4, 1])[b.base_priority] * interval '1 hour' AS first_due,
                   b.created_at + (ARRAY[120, 72, 24, 8])[b.base_priority] * interval '1 hour' AS resolution_due,
                   least(b.created_at + ({inner_count} - 1) * {inner_step}, %(now)s) AS last_at
            FROM (
                SELECT s.*,
                       CASE WHEN s.created_at > %(now)s::timestamptz - interval '30 days' THEN 0.75 ELSE 0.25 END AS p_active
                FROM (
                    SELECT g AS id,
                           %(start)s::timestamptz + (g - 1) * %(spacing)s::interval + random() * %(spacing)s::interval AS created_at,
                           (%(dept_ids)s::int[])[width_bucket(random(), %(bounds)s::float8[])] AS department_id,
                           1 + floor(power(random(), 1.3) * %(customers)s)::int AS customer_id,
                           (ARRAY[4, 3, 2, 1])[width_bucket(random(), ARRAY[0, 0.08, 0.30, 0.85])] AS base_priority,
                           (ARRAY['phone', 'wechat', 'web', 'email', 'sms', 'whatsapp', 'messenger', 'api'])
                               [width_bucket(random(), ARRAY[0, 0.30, 0.50, 0.65, 0.80, 0.85, 0.90, 0.95])] AS channel,
                           1 + floor(random() * cardinality(%(subjects)s::text[]))::int AS topic,
                           random() AS r_status, random() AS r_assign, random() AS r_agent
                    FROM generate_series(1, %(n)s) AS g
                ) s
            ) b
            JOIN customers c ON c.id = b.customer_id
        ) s
        JOIN dept_agents da ON da.department_id = s.department_id
        ORDER BY s.id
        """,
        {
            "subjects": [s[0] for s in SUBJECTS],
            "categories": [s[1] for s in SUBJECTS],
            "now": now,
            "start": now - timedelta(days=365),
            "spacing": timedelta(days=365) / tickets,
            "dept_ids": dept_ids,
            "bounds": bounds,
            "customers": customers,
            "n": tickets,
        },
    )
    conn.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
    conn.execute("UPDATE counters SET value = (SELECT max(number) FROM tickets) WHERE name = 'ticket_number'")


def create_messages(conn: psycopg.Connection[Any], now: datetime) -> None:
    """1..5 messages per ticket, inserted in time order across tickets (ids follow created_at)."""
    count, step = MSG_COUNT.format(id="t.id"), MSG_STEP.format(id="t.id")
    conn.execute(
        f"""
        INSERT INTO messages (ticket_id, direction, channel, author_agent_id, author_customer_id, body_text, body_html,
                              provider_message_id, delivery_status, delivery_error, created_at)
        SELECT m.ticket_id, m.direction, m.channel,
               CASE WHEN m.direction <> 'inbound' THEN m.agent_id END,
               CASE WHEN m.direction = 'inbound' THEN m.customer_id END,
               m.body,
               CASE WHEN m.channel = 'email' THEN '<p>' || m.body || '</p>' END,
               CASE WHEN m.direction <> 'note' AND m.channel IN ('wechat', 'whatsapp', 'messenger', 'sms', 'email')
                    THEN m.channel || '-' || m.ticket_id || '-' || m.k END,
               CASE WHEN m.direction = 'outbound' THEN 'delivered' ELSE 'none' END,
               NULL, m.created_at
        FROM (
          SELECT d.*,
                 CASE WHEN d.direction = 'inbound' THEN (%(customer)s::text[])[1 + mod(d.h, cardinality(%(customer)s::text[]))]
                      ELSE (%(agent)s::text[])[1 + mod(d.h, cardinality(%(agent)s::text[]))] END AS body
          FROM (
            SELECT t.id AS ticket_id, k, t.channel, t.customer_id,
                   coalesce(t.assignee_id, da.agent_ids[1]) AS agent_id,
                   CASE WHEN k = 1 OR t.status = 'new' THEN 'inbound'
                        WHEN mod(abs(hashint8(t.id * 8 + k))::bigint, 100) < 15 THEN 'note'
                        WHEN mod(k, 2) = 0 THEN 'outbound' ELSE 'inbound' END AS direction,
                   abs(hashint8(t.id * 8 + k + 3))::bigint AS h,
                   least(t.created_at + (k - 1) * {step}, %(now)s) AS created_at
            FROM tickets t
            JOIN dept_agents da ON da.department_id = t.department_id
            CROSS JOIN LATERAL generate_series(1, {count}::int) AS k
          ) d
        ) m
        ORDER BY m.created_at, m.ticket_id, m.k
        """,
        {"customer": CUSTOMER_BODIES, "agent": AGENT_BODIES, "now": now},
    )


def create_tags_and_invitations(conn: psycopg.Connection[Any]) -> None:
    """A tag on ~45% of tickets, a second on a quarter of those; ~0.5% invite a second department."""
    conn.execute(
        """
        INSERT INTO ticket_tags (ticket_id, tag)
        SELECT t.id, v.tag
        FROM tickets t
        CROSS JOIN LATERAL (SELECT abs(hashint8(t.id + 99))::bigint AS h) x
        CROSS JOIN LATERAL (VALUES
            ((%(tags)s::text[])[1 + mod(x.h, cardinality(%(tags)s::text[]))]),
            (CASE WHEN mod(x.h / 100, 4) = 0 THEN (%(tags)s::text[])[1 + mod(x.h / 7, cardinality(%(tags)s::text[]))] END)
        ) AS v(tag)
        WHERE mod(x.h, 100) < 45 AND v.tag IS NOT NULL
        ON CONFLICT DO NOTHING
        """,
        {"tags": TAGS},
    )
    conn.execute(
        """
        INSERT INTO ticket_invitations (ticket_id, department_id, invited_by_id, reason, created_at, revoked_at)
        SELECT t.id, d2.id, t.assignee_id, 'Please advise on this case', t.created_at + interval '1 hour',
               CASE WHEN mod(t.id, 3) = 0 THEN t.created_at + interval '2 days' END
        FROM tickets t
        JOIN departments d ON d.id = t.department_id
        JOIN departments d2 ON d2.code = split_part(d.code, '-', 1)
                                         || CASE WHEN d.code LIKE '%-complaints' THEN '-billing' ELSE '-complaints' END
        WHERE mod(abs(hashint8(t.id + 13))::bigint, 200) = 0
        ORDER BY t.id
        """
    )


def recreate_indexes(conn: psycopg.Connection[Any], ddl: list[tuple[str, str]]) -> None:
    for _name, statement in ddl:
        conn.execute(statement)


def summary(conn: psycopg.Connection[Any], database: str) -> dict[str, Any]:
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        for table in COUNTED_TABLES
    }
    sizes = dict(
        conn.execute(
            """
            SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class
            WHERE relname IN ('tickets', 'messages', 'customers', 'contact_identities', 'ticket_tags') ORDER BY 1
            """
        ).fetchall()
    )
    sizes["database"] = conn.execute("SELECT pg_size_pretty(pg_database_size(%s))", [database]).fetchone()[0]  # type: ignore[index]
    statuses = dict(conn.execute("SELECT status, count(*) FROM tickets GROUP BY 1 ORDER BY 1").fetchall())
    biggest = conn.execute(
        """
        SELECT d.code, count(*) FILTER (WHERE t.status IN ('new', 'open', 'pending', 'on_hold')), count(*)
        FROM tickets t JOIN departments d ON d.id = t.department_id GROUP BY d.code ORDER BY 3 DESC LIMIT 3
        """
    ).fetchall()
    return {"rows": counts, "sizes": sizes, "statuses": statuses, "largest_departments": [list(r) for r in biggest]}


def generate(server_url: str, database: str, tickets: int, customers: int, seed: float) -> dict[str, Any]:
    timer = PhaseTimer()
    started_provenance = provenance()
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    with timer.phase("create database"):
        create_database(server_url, database)
    with timer.phase("alembic migrations"):
        run_migrations(server_url, database)
    with timer.phase("argon2 password hash (once)"):
        password_hash = hash_once()
    with psycopg.connect(libpq_url(server_url, database), autocommit=False) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '1GB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET session_replication_role = replica")  # skip FK triggers during the bulk load
        conn.execute("SELECT setseed(%s)", [seed])
        with timer.phase("drop secondary indexes"):
            dropped = drop_secondary_indexes(conn)
            conn.commit()
        with timer.phase("organisation (departments, agents, memberships)"):
            create_organisation(conn, password_hash)
            conn.commit()
        with timer.phase(f"customers ({customers:,}) + identities"):
            create_customers(conn, customers, now)
            conn.commit()
        with timer.phase(f"tickets ({tickets:,})"):
            create_tickets(conn, tickets, customers, now)
            conn.commit()
        with timer.phase("messages"):
            create_messages(conn, now)
            conn.commit()
        with timer.phase("tags + invitations"):
            create_tags_and_invitations(conn)
            conn.commit()
        with timer.phase(f"re-create {len(dropped)} secondary indexes"):
            recreate_indexes(conn, dropped)
            conn.commit()
        conn.autocommit = True
        with timer.phase("VACUUM ANALYZE"):
            conn.execute("VACUUM ANALYZE")
        total = round(time.perf_counter() - started, 2)
        facts = summary(conn, database)
    print(f"[generate] total: {total:.1f} s")
    return {
        "database": database,
        "tickets_requested": tickets,
        "customers_requested": customers,
        "seed": seed,
        "generated_at": now.isoformat(),
        "phases_s": timer.phases,
        "total_s": total,
        "indexes_rebuilt": [name for name, _ in dropped],
        "machine": machine(),
        "provenance_at_start": started_provenance,
        "provenance_at_end": provenance(),
        **facts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: tickets / 5 (200,000 for 1M tickets)")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--server-url", default=DEFAULT_SERVER_URL, help="libpq URL of the server, no database name")
    parser.add_argument("--seed", type=float, default=0.42)
    parser.add_argument("--result", default="generate", help="name of the JSON file in bench/results/")
    args = parser.parse_args()
    customers = args.customers or max(args.tickets // 5, 100)
    result = generate(args.server_url, args.database, args.tickets, customers, args.seed)
    print(f"[generate] rows: {result['rows']}")
    print(f"[generate] sizes: {result['sizes']}")
    print(f"[generate] wrote {write_result(args.result, result)}")


if __name__ == "__main__":
    main()
