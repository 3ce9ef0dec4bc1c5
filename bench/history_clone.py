"""Copy a generated stretch of history into other months, in SQL: bench/generate.py's way to reach a depot's size.

The generator writes its first months through the addon's own paths (the *template*). This module copies those
rows many times, each copy (a *clone*) into its own product family and months:
- every row of the template (RMAs, units, inspections, batches, pickings, moves, quants, lots, journal entries and
  items, repair orders, COGS reversals, product costs, the chatter) gets a new id; every reference to a copied row
  follows it, every reference to anything else (companies, locations, accounts, partners, users) stays;
- the clone's products are copies of the template's (a new SKU family), so each clone's stock valuation and ledger
  are exactly its template's: Odoo's FIFO and average cost run per product, and no copied move shares a product
  with another history;
- dates move by whole days (creation and write dates stay the real time, as the ORM writes them);
- the names users search are new: serials ``G1DA1-0000042`` become ``G1C007DA1-0000042``, RMA, picking, batch and
  repair numbers are offset by 100,000 per clone (the year of an RMA number follows its date), journal entries are
  renumbered in their journal's monthly sequence;
- custody events are hashed again with the addon's ``custody_hash`` (their ids, dates and serials changed), the
  units' chain heads follow, and nothing copied is sealed: the generator seals it with the addon's ``_seal``;
- PostgreSQL checks every reference: the foreign keys of a cycle (a unit and its inspection) are deferred to the end
  of the copy, then checked.
Rows of other tables created by the template (a sequence, a cron trigger) are not history and are not copied; a
table this module does not know stops the copy with its name, so nothing is copied half.
"""

import io
import re
from collections import defaultdict

from odoo.tools import SQL

# The history's tables, copied row for row; ``(model column, id column)`` for rows that name their record by model.
CLONED = (
    "product_template",
    "product_product",
    "product_value",
    "stock_lot",
    "stock_picking",
    "stock_move",
    "stock_move_line",
    "stock_quant",
    "stock_reference",
    "account_move",
    "account_move_line",
    "account_partial_reconcile",
    "rma_order",
    "rma_line",
    "rma_inspection",
    "rma_disposition_batch",
    "rma_disposition_batch_line",
    "rma_cogs_reversal",
    "repair_order",
    "mail_message",
    "mail_tracking_value",
    "mail_followers",
    "rma_custody_event",
)
BY_MODEL = {"mail_message": ("model", "res_id"), "mail_followers": ("res_model", "res_id")}
# Rows the template creates that are not history: a queue, a job's state, sequences, logs, wizards.
NOT_HISTORY = {
    "bus_bus",
    "ir_cron_trigger",
    "ir_cron_progress",
    "ir_sequence",
    "ir_sequence_date_range",
    "ir_attachment",
    "ir_logging",
    "res_users_log",
    "mail_mail",
    "mail_notification",
    "rma_order_notification",
    "rma_custody_seal",
    "rma_custody_check",
    "rma_disposition_wizard",
    "rma_disposition_wizard_line",
}
NUMBERED = {"rma_order": "name", "stock_picking": "name", "rma_disposition_batch": "name", "repair_order": "name"}
# The date a numbered name's year follows ("RMA/2024/00042").
NAME_YEAR_DATE = {"rma_order": "request_date", "rma_disposition_batch": "prepared_date"}
SERIAL = r"(G\d+)(D[AB]\d-\d{7})"
# The texts that hold the generator's serials (found by searching the template's text columns for them).
SERIAL_COLUMNS = {
    "stock_lot": {"name"},
    "stock_move_line": {"lot_name"},
    "rma_line": {"serial_number"},
    "rma_custody_event": {"serial", "scanned_code"},
    "account_move_line": {"name"},
    "mail_message": {"body"},
}
CLONE_NUMBER = 100_000


def max_ids(cr):
    """{table: max(id)} of every table with an integer id."""
    cr.execute(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t"
        " USING (table_schema, table_name) WHERE c.table_schema = 'public' AND c.column_name = 'id'"
        " AND c.data_type = 'integer' AND t.table_type = 'BASE TABLE'"
    )
    tables = [row[0] for row in cr.fetchall()]
    cr.execute(
        SQL(" UNION ALL ").join(SQL("SELECT %s, COALESCE(MAX(id), 0) FROM %s", t, SQL.identifier(t)) for t in tables)
    )
    return dict(cr.fetchall())


class HistoryCloner:
    """Clone the rows the template created (ids in ``(before[t], after[t]]``) and its products ``products``."""

    def __init__(self, env, before, after, products, shifts, log=print):
        self.env, self.cr, self.log = env, env.cr, log
        self.shifts = shifts  # days each clone moves, one entry per clone
        self.ranges = {}
        created = {table for table, top in after.items() if top > before.get(table, 0)}
        unknown = created - set(CLONED) - NOT_HISTORY
        if unknown:
            raise RuntimeError(f"the template wrote to tables the cloner does not know: {sorted(unknown)}")
        for table in CLONED:
            if table in after:
                self.ranges[table] = (before.get(table, 0), after[table])
        for table, ids in (("product_product", products.ids), ("product_template", products.product_tmpl_id.ids)):
            if sorted(ids) != list(range(min(ids), max(ids) + 1)):
                raise RuntimeError(f"the template's {table} rows are not consecutive: {ids}")
            self.ranges[table] = (min(ids) - 1, max(ids))
        self.bases = max_ids(self.cr)
        self.models = {table.replace("_", "."): table for table in self.ranges}

    # ------------------------------------------------------------------
    # Catalogue
    # ------------------------------------------------------------------
    def _columns(self, table):
        self.cr.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
            " AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
            [table],
        )
        return self.cr.fetchall()

    def _foreign_keys(self, tables):
        """[(table, column, referenced table, constraint, deferrable)] between ``tables``."""
        self.cr.execute(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.conname, c.condeferrable"
            " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s) AND c.confrelid::regclass::text = ANY(%s)",
            [list(tables), list(self.ranges)],
        )
        return self.cr.fetchall()

    def _relation_tables(self):
        """The many2many tables (no id) that link a copied row."""
        self.cr.execute(
            "SELECT DISTINCT c.conrelid::regclass::text FROM pg_constraint c WHERE c.contype = 'f'"
            " AND c.confrelid::regclass::text = ANY(%s) AND NOT EXISTS (SELECT 1 FROM information_schema.columns i"
            " WHERE i.table_schema = 'public' AND i.table_name = c.conrelid::regclass::text AND i.column_name = 'id')",
            [list(self.ranges)],
        )
        return sorted(
            row[0] for row in self.cr.fetchall() if row[0] not in NOT_HISTORY and re.fullmatch(r"[a-z0-9_]+", row[0])
        )

    def _order(self, fks):
        """The copied tables parents first; the foreign keys of cycles, to defer."""
        parents = defaultdict(set)
        for table, _column, referenced, _name, _deferrable in fks:
            if table != referenced:
                parents[table].add(referenced)
        order, state, back_edges = [], {}, set()

        def visit(table):
            state[table] = "open"
            for parent in sorted(parents[table]):
                if state.get(parent) == "open":
                    back_edges.add((table, parent))
                elif parent not in state:
                    visit(parent)
            state[table] = "done"
            order.append(table)

        for table in self.ranges:
            if table not in state:
                visit(table)
        return order, [fk for fk in fks if (fk[0], fk[2]) in back_edges]

    # ------------------------------------------------------------------
    # Expressions
    # ------------------------------------------------------------------
    def _remap(self, table, column):
        """``column`` (an id of ``table``) in clone ``j``: template rows move, others stay."""
        low, high = self.ranges[table]
        return SQL(
            "CASE WHEN %(col)s > %(low)s AND %(col)s <= %(high)s THEN %(col)s + %(delta)s + j * %(span)s"
            " ELSE %(col)s END",
            col=SQL.identifier(column),
            low=low,
            high=high,
            delta=self.bases[table] - low,
            span=high - low,
        )

    def _in_range(self, table, column, alias="src"):
        low, high = self.ranges[table]
        return SQL("%s > %s AND %s <= %s", SQL.identifier(alias, column), low, SQL.identifier(alias, column), high)

    def _shift(self):
        return SQL("(%s::int[])[j + 1]", self.shifts)

    def _tag(self):
        return SQL("lpad((j + 1)::text, 3, '0')")

    def _value(self, table, column, data_type, fk_by_column):
        """The SQL expression of ``column`` in the clone."""
        col = SQL.identifier(column)
        if column == "id":
            return self._remap(table, "id")
        if column in fk_by_column:
            return self._remap(fk_by_column[column], column)
        if table in BY_MODEL and column == BY_MODEL[table][1]:
            model_column = SQL.identifier(BY_MODEL[table][0])
            cases = [
                SQL("WHEN %s = %s THEN %s", model_column, model, self._remap(target, column))
                for model, target in sorted(self.models.items())
            ]
            return SQL("CASE %s ELSE %s END", SQL(" ").join(cases), col)
        if column in ("create_date", "write_date"):
            return col
        if data_type == "date":
            return SQL("%s + %s", col, self._shift())
        if data_type.startswith("timestamp"):
            return SQL("%s + make_interval(days => %s)", col, self._shift())
        if NUMBERED.get(table) == column:
            # Trailing number + 100,000 per clone; an RMA number's year follows its date.
            renumbered = SQL(
                "regexp_replace(%s, '\\d+$', (COALESCE(substring(%s FROM '\\d+$')::int, 0) + (j + 1) * %s)::text)",
                col,
                col,
                CLONE_NUMBER,
            )
            if table in NAME_YEAR_DATE:
                return SQL(
                    "regexp_replace(%s, '/\\d{4}/', '/' || to_char(COALESCE(src.%s, src.create_date)"
                    " + make_interval(days => %s), 'YYYY') || '/')",
                    renumbered,
                    SQL.identifier(NAME_YEAR_DATE[table]),
                    self._shift(),
                )
            return renumbered
        if table == "product_template" and column == "name":
            return SQL("jsonb_build_object('en_US', (%s->>'en_US') || ' S' || %s)", col, self._tag())
        if table == "account_move" and column == "name":
            return SQL("CASE WHEN %s = '/' THEN '/' ELSE %s || '#' || j END", col, col)  # numbered after the copy
        if column in SERIAL_COLUMNS.get(table, ()):
            text = SQL("%s::text", col) if data_type == "jsonb" else col
            renamed = SQL("regexp_replace(%s, %s, '\\1C' || %s || '\\2', 'g')", text, SERIAL, self._tag())
            return SQL("%s::jsonb", renamed) if data_type == "jsonb" else renamed
        return col

    # ------------------------------------------------------------------
    # The copy
    # ------------------------------------------------------------------
    def run(self):
        cr = self.cr
        self.env.flush_all()
        relations = self._relation_tables()
        fks = self._foreign_keys(list(self.ranges) + relations)
        order, deferred = self._order([fk for fk in fks if fk[0] in self.ranges])
        cyclic = {(fk[0], fk[1]) for fk in deferred}
        # Kept rows: in the template's range, and every reference into a copied table kept too (a message on a
        # record that is not copied is not copied; zero quants are left out, as Odoo's quant clean-up does).
        fk_by_table = defaultdict(dict)
        for table, column, referenced, _name, _deferrable in fks:
            fk_by_table[table][column] = referenced
        for table in order:
            conditions = [self._in_range(table, "id")]
            for column, referenced in sorted(fk_by_table[table].items()):
                if referenced != table and (table, column) not in cyclic:
                    conditions.append(
                        SQL(
                            "(src.%s IS NULL OR NOT (%s) OR src.%s IN (SELECT id FROM %s))",
                            SQL.identifier(column),
                            self._in_range(referenced, column),
                            SQL.identifier(column),
                            SQL.identifier(f"_keep_{referenced}"),
                        )
                    )
            if table in BY_MODEL:
                conditions.append(SQL("src.%s = ANY(%s)", SQL.identifier(BY_MODEL[table][0]), list(self.models)))
            if table == "stock_quant":
                conditions.append(SQL("(src.quantity <> 0 OR src.reserved_quantity <> 0)"))
            if table == "product_product" or table == "product_template":
                conditions = [self._in_range(table, "id")]
            cr.execute(
                SQL(
                    "CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT id FROM %s src WHERE %s",
                    SQL.identifier(f"_keep_{table}"),
                    SQL.identifier(table),
                    SQL(" AND ").join(conditions),
                )
            )
        for table, _column, _referenced, name, deferrable in deferred:
            if not deferrable:
                cr.execute(
                    SQL("ALTER TABLE %s ALTER CONSTRAINT %s DEFERRABLE", SQL.identifier(table), SQL.identifier(name))
                )
        cr.execute("SET CONSTRAINTS ALL DEFERRED")
        clones = SQL("generate_series(0, %s) AS j", len(self.shifts) - 1)
        counts = {}
        for table in order:
            if table == "rma_custody_event":
                counts[table] = self._copy_events(fk_by_table[table], clones)
                continue
            columns = self._columns(table)
            values = [self._value(table, name, data_type, fk_by_table[table]) for name, data_type in columns]
            cr.execute(
                SQL(
                    "INSERT INTO %s (%s) SELECT %s FROM %s src JOIN %s USING (id) CROSS JOIN %s ORDER BY j, src.id",
                    SQL.identifier(table),
                    SQL(", ").join(SQL.identifier(name) for name, _type in columns),
                    SQL(", ").join(values),
                    SQL.identifier(table),
                    SQL.identifier(f"_keep_{table}"),
                    clones,
                )
            )
            counts[table] = cr.rowcount
            self.log(f"  cloned {table}: {cr.rowcount:,} rows")
        for table in relations:
            counts[table] = self._copy_relation(table, fk_by_table[table], clones)
        self._renumber_entries()
        self._update_references()
        cr.execute("SET CONSTRAINTS ALL IMMEDIATE")  # every deferred reference checked now
        for table, _column, _referenced, name, deferrable in deferred:
            if not deferrable:
                cr.execute(
                    SQL(
                        "ALTER TABLE %s ALTER CONSTRAINT %s NOT DEFERRABLE", SQL.identifier(table), SQL.identifier(name)
                    )
                )
        for table in list(self.ranges):
            cr.execute(
                SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT MAX(id) FROM %s), 1))",
                    table,
                    SQL.identifier(table),
                )
            )
        cr.execute(SQL("DROP TABLE %s", SQL(", ").join(SQL.identifier(f"_keep_{table}") for table in order)))
        cr.execute("DROP TABLE _clone_events")
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        return counts

    def _copy_relation(self, table, fk_by_column, clones):
        columns = [name for name, _type in self._columns(table)]
        linked = [column for column in columns if column in fk_by_column]
        any_copied = SQL(" OR ").join(self._in_range(fk_by_column[column], column) for column in linked)
        kept = SQL(" AND ").join(
            SQL(
                "(NOT (%s) OR src.%s IN (SELECT id FROM %s))",
                self._in_range(fk_by_column[column], column),
                SQL.identifier(column),
                SQL.identifier(f"_keep_{fk_by_column[column]}"),
            )
            for column in linked
        )
        self.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM %s src CROSS JOIN %s WHERE (%s) AND %s",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(column) for column in columns),
                SQL(", ").join(
                    self._remap(fk_by_column[column], column) if column in linked else SQL.identifier(column)
                    for column in columns
                ),
                SQL.identifier(table),
                clones,
                any_copied,
                kept,
            )
        )
        self.log(f"  cloned {table}: {self.cr.rowcount:,} rows")
        return self.cr.rowcount

    def _copy_events(self, fk_by_column, clones):
        """The clones' custody events, chained and hashed again (ids, dates and serials changed), then COPYed."""
        # Imported here: this module is loaded before the addons path is set up.
        from odoo.addons.rma_recovery.models.rma_custody_event import custody_hash

        cr, Event = self.cr, self.env["rma.custody.event"]
        columns = self._columns("rma_custody_event")
        cr.execute(
            SQL(
                "CREATE TEMP TABLE _clone_events ON COMMIT DROP AS SELECT %s FROM rma_custody_event src"
                " JOIN _keep_rma_custody_event USING (id) CROSS JOIN %s",
                SQL(", ").join(
                    SQL("%s AS %s", self._value("rma_custody_event", name, kind, fk_by_column), SQL.identifier(name))
                    for name, kind in columns
                ),
                clones,
            )
        )
        names = [name for name, _kind in columns]
        position = {name: index for index, name in enumerate(names)}
        copy = SQL("COPY rma_custody_event (%s) FROM STDIN", SQL(", ").join(SQL.identifier(n) for n in names)).code
        # A server-side cursor in the same transaction: three million rows are read in batches, not at once.
        reader = cr._cnx.cursor(name="rma_clone_events")
        reader.execute(
            SQL(
                "SELECT %s, %s FROM _clone_events ORDER BY line_id, sequence",
                SQL(", ").join(SQL.identifier(name) for name in names),
                Event._hashed_columns(),
            ).code
        )
        previous_line, previous_hash, total = None, None, 0
        while rows := reader.fetchmany(200_000):
            buffer = io.StringIO()
            for row in rows:
                row, values = list(row[: len(names)]), row[len(names) :]
                if row[position["line_id"]] != previous_line:
                    previous_line, previous_hash = row[position["line_id"]], None
                row[position["previous_hash"]] = previous_hash
                previous_hash = row[position["hash"]] = custody_hash(previous_hash, [value or None for value in values])
                buffer.write("\t".join(_copy_text(value) for value in row) + "\n")
            buffer.seek(0)
            cr.copy_expert(copy, buffer)
            total += len(rows)
        reader.close()
        # The units' heads: their last event's hash; nothing copied is sealed.
        cr.execute(
            SQL(
                "UPDATE rma_line SET custody_hash = event.hash, custody_sealed_sequence = NULL FROM rma_custody_event"
                " event WHERE event.line_id = rma_line.id AND event.sequence = rma_line.custody_sequence"
                " AND rma_line.id > %s",
                self.bases["rma_line"],
            )
        )
        self.log(f"  cloned rma_custody_event: {total:,} rows, hashed again")
        return total

    def _renumber_entries(self):
        """The clones' journal entries, numbered in their journal's monthly sequence by date (as Odoo numbers)."""
        cr = self.cr
        base = self.bases["account_move"]
        cr.execute(
            SQL(
                """
                WITH numbered AS (
                    SELECT move.id, journal.code || '/' || to_char(move.date, 'YYYY/MM') || '/' AS prefix,
                           ROW_NUMBER() OVER (PARTITION BY move.journal_id, to_char(move.date, 'YYYY/MM')
                                              ORDER BY move.date, move.id)
                           + COALESCE((SELECT MAX(old.sequence_number) FROM account_move old
                                        WHERE old.journal_id = move.journal_id AND old.id <= %(base)s
                                          AND old.sequence_prefix
                                              = journal.code || '/' || to_char(move.date, 'YYYY/MM') || '/'), 0)
                           AS number
                      FROM account_move move JOIN account_journal journal ON journal.id = move.journal_id
                     WHERE move.id > %(base)s AND move.name <> '/'
                )
                UPDATE account_move SET sequence_prefix = numbered.prefix, sequence_number = numbered.number,
                       name = numbered.prefix || lpad(numbered.number::text, 4, '0'),
                       inalterable_hash = NULL, secure_sequence_number = NULL
                  FROM numbered WHERE account_move.id = numbered.id
                """,
                base=base,
            )
        )
        cr.execute(
            SQL(
                "UPDATE account_move_line SET move_name = move.name FROM account_move move"
                " WHERE move.id = account_move_line.move_id AND account_move_line.id > %s",
                self.bases["account_move_line"],
            )
        )

    def _update_references(self):
        """Stored texts that repeat a renumbered name."""
        self.cr.execute(
            SQL(
                "UPDATE stock_move SET reference = picking.name FROM stock_picking picking"
                " WHERE picking.id = stock_move.picking_id AND stock_move.id > %s",
                self.bases["stock_move"],
            )
        )


def _copy_text(value):
    """A value in COPY's text format."""
    if value is None or value is False:
        return "\\N"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return re.sub(
        r"[\\\t\n\r]", lambda match: {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}[match[0]], str(value)
    )
