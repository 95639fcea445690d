"""`archive.ledger`'s carry-forward as PL/pgSQL statements, for the one-call batch (`archive.sqlbatch`).

Computed from the batch's rows in the archive schema (just moved and verified), exactly as `ledger.replace`
computes it from the archived rows: one balanced journal entry `ARCF-<batch>` on the batch's last entry
date with each (account, customer, supplier) net, or one stock move per (item, warehouse) with the net
quantity and value (a zero quantity carrying a value on +1 and taking the unit back with -1). Its sentence
lands in `v_carried`, the batch's reason.
"""

from __future__ import annotations

from archive.families import CARRY_FORWARD_SOURCE, CarryForward
from archive.ledger import EVENT
from archive.sqlhash import quote_ident as q
from archive.store import BATCH_COLUMN


def carry_forward_sql(kind: CarryForward | None, schema: str) -> str:
    """The statements for a family's carry-forward kind ('' for families that carry nothing)."""
    if kind == "journal":
        return _journal(schema)
    if kind == "stock":
        return _stock(schema)
    return ""


def _journal(schema: str) -> str:
    """One statement: the nets, the entry (only when some net is not zero) and its lines."""
    batch = f"{q(BATCH_COLUMN)} = v_batch"
    return f"""    v_number := 'ARCF-' || lpad(v_batch::text, greatest(10, length(v_batch::text)), '0');
    WITH nets AS (SELECT account_id, customer_id, supplier_id, round(sum(debit), 4) - round(sum(credit), 4) AS net
                  FROM {q(schema)}.journal_line WHERE {batch} GROUP BY account_id, customer_id, supplier_id),
         kept AS (SELECT * FROM nets WHERE net <> 0),
         entry AS (INSERT INTO journal_entry (number, entry_date, source_type, source_id, event, description,
                                              created_at)
                   SELECT v_number, (SELECT max(entry_date) FROM {q(schema)}.journal_entry WHERE {batch}),
                          '{CARRY_FORWARD_SOURCE}', v_batch, '{EVENT}',
                          'archive batch ' || v_batch || ': balances carried forward', now()
                   WHERE EXISTS (SELECT 1 FROM kept) RETURNING id),
         line AS (INSERT INTO journal_line (journal_entry_id, account_id, customer_id, supplier_id, debit, credit)
                  SELECT entry.id, k.account_id, k.customer_id, k.supplier_id, greatest(k.net, 0), greatest(-k.net, 0)
                  FROM entry CROSS JOIN kept k ORDER BY k.account_id, k.customer_id, k.supplier_id RETURNING 1)
    SELECT count(*) INTO v_n FROM line;
    v_carried := CASE WHEN v_n = 0 THEN 'no balance to carry forward'
                      ELSE v_n || ' balance(s) carried forward in journal entry ' || v_number END;"""


def _stock(schema: str) -> str:
    moves = f"{q(schema)}.stock_move WHERE {q(BATCH_COLUMN)} = v_batch"
    return f"""    SELECT max(move_date) INTO v_day FROM {moves};
    INSERT INTO stock_move (item_id, warehouse_id, move_date, quantity, value_amount, source_type, source_id,
                            source_line_id, event, created_at)
    SELECT s.item_id, s.warehouse_id, v_day, m.quantity, m.value_amount, '{CARRY_FORWARD_SOURCE}', v_batch, s.key,
           m.event, now()
    FROM (SELECT item_id, warehouse_id, round(sum(quantity), 4) AS quantity, round(sum(value_amount), 4) AS value,
                 max(id) AS key FROM {moves} GROUP BY item_id, warehouse_id) s
    CROSS JOIN LATERAL (VALUES (s.quantity, s.value, '{EVENT}', s.quantity <> 0),
                               (1::numeric, s.value, '{EVENT}', s.quantity = 0 AND s.value <> 0),
                               (-1::numeric, 0::numeric, '{EVENT}_adj', s.quantity = 0 AND s.value <> 0))
        AS m(quantity, value_amount, event, wanted)
    WHERE m.wanted ORDER BY s.item_id, s.warehouse_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_carried := v_n || ' stock balance move(s) carried forward';"""
