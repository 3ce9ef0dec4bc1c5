"""19.0.1.3.0: returns become Odoo documents.

- An RMA authorized before has its receipt now: a picking holding a move for each unit still expected (units
  received before keep the moves and entries they were received with).
- Each disposition confirmed before, known until now by its reference on the units, becomes its batch document
  (done), with its units, values, moves and journal entries.
- The RMA's status is computed from its units: recomputed once.
- Companies with a chart get the NRV allowance and standard cost variance accounts.
- Each unit keeps the time of its stages: those the previous versions did not record are taken from the RMA's
  authorization, the disposition (units closed by it) and the last status event (units whose work finished).
"""

from collections import defaultdict
from datetime import timedelta

from odoo import SUPERUSER_ID, Command, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    _create_receipts(env)
    _create_disposition_batches(env)
    _fill_stage_dates(env)
    # The NRV allowance and standard cost variance accounts of the disposition codes (contract, work closed).
    env["res.company"].search([("chart_template", "!=", False)])._rma_setup_accounts()
    rmas = env["rma.order"].search([])
    env.add_to_compute(rmas._fields["state"], rmas)
    rmas.flush_recordset(["state"])


def _fill_stage_dates(env):
    env.flush_all()
    env.cr.execute(
        SQL(
            """UPDATE rma_line line SET authorized_date = rma.authorize_date FROM rma_order rma
                WHERE line.rma_id = rma.id AND line.authorized_date IS NULL
                  AND line.state NOT IN ('draft', 'rejected', 'cancel')"""
        )
    )
    env.cr.execute(
        SQL("UPDATE rma_line SET closed_date = disposition_date WHERE state = 'closed' AND closed_date IS NULL")
    )
    env.cr.execute(
        SQL(
            """UPDATE rma_line line SET work_finished_date = event.last_date
                 FROM (SELECT line_id, MAX(event_date) AS last_date FROM rma_custody_event
                        WHERE event_type = 'status' GROUP BY line_id) AS event
                WHERE event.line_id = line.id AND line.state = 'ready' AND line.work_finished_date IS NULL"""
        )
    )
    env.invalidate_all()


def _create_receipts(env):
    expected = env["rma.line"].search([("state", "=", "authorized")])
    rmas = expected.rma_id.filtered(lambda rma: not rma.receipt_picking_ids)
    if rmas:
        rmas._create_receipt_pickings(expected.filtered(lambda line: line.rma_id in rmas))


def _create_disposition_batches(env):
    if not column_exists(env.cr, "rma_line", "disposition_batch"):
        return
    env.cr.execute(
        SQL(
            """SELECT id, disposition_batch FROM rma_line
                WHERE disposition_batch IS NOT NULL AND disposition_batch_id IS NULL ORDER BY id"""
        )
    )
    units_by_reference = defaultdict(list)
    for unit_id, reference in env.cr.fetchall():
        units_by_reference[reference].append(unit_id)
    batch_model = env["rma.disposition.batch"]
    for reference, unit_ids in units_by_reference.items():
        units = env["rma.line"].browse(unit_ids)
        first = units[0]
        moves = units.receipt_move_ids.filtered(
            lambda move, units=units: (
                move.state == "done"
                and move.location_id == move.rma_line_id.rma_id.warehouse_id.rma_quarantine_location_id
                and move.date <= move.rma_line_id.disposition_date + timedelta(minutes=1)
            )
        )
        last_move = {}
        for move in moves.sorted("date"):
            last_move[move.rma_line_id] = move
        moves = env["stock.move"].union(*last_move.values())
        # The addon's disposition entry: its lines name the units and their code (not RECEIPT, not the close).
        entries = (
            env["account.move.line"]
            .search(
                [
                    ("rma_line_id", "in", units.ids),
                    ("journal_id.code", "=", "RMAD"),
                    ("name", "not like", "% RECEIPT"),
                    ("name", "not like", "% CLOSE"),
                ]
            )
            .move_id
        )
        batch = batch_model.create(
            {
                "company_id": first.company_id.id,
                "line_ids": [
                    Command.create(
                        {
                            "unit_id": unit.id,
                            "disposition_id": unit.disposition_id.id,
                            "repair_level": unit.repair_level,
                            "net_realizable_value": unit.net_realizable_value,
                            "work_cost": unit.work_cost,
                            "recovery_value": unit.recovery_value,
                            "book_value": unit.book_value,
                            "move_id": last_move.get(unit, env["stock.move"]).id,
                            "note": unit.disposition_note,
                        }
                    )
                    for unit in units
                ],
            }
        )
        batch.write(
            {
                "name": reference,
                "state": "done",
                "prepared_by_id": first.disposition_user_id.id,
                "prepared_date": first.disposition_date,
                "confirmed_by_id": first.disposition_user_id.id,
                "confirmed_date": first.disposition_date,
                "move_ids": [Command.set(moves.ids)],
                "account_move_ids": [Command.set((moves.account_move_id | entries).ids)],
            }
        )
        units.write({"disposition_batch_id": batch.id})
