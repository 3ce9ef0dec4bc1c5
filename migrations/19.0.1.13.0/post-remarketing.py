"""19.0.1.13.0: the serials of units already refurbished, repaired or restocked get their condition and grade.

Remarketing by grade (issue 23 §2) records on the serial (stock.lot.rma_condition, rma_grade_id) the condition it
is sold again in, when the unit's work finishes into graded stock or the unit is restocked. Units that got there
before the upgrade are given what those steps would have recorded: refurbished (their work finished) or new
(restocked), with the grade of their inspection; a serial returned more than once takes its last disposition's.
Their remarketing channel stays empty (no channel allocation existed), and the move that took a unit out of graded
stock is not guessed: the realized recovery counts the units sold from now on.
"""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(
        SQL(
            """UPDATE stock_lot
                  SET rma_condition = CASE WHEN last.treatment = 'restock' THEN 'new' ELSE 'refurbished' END,
                      rma_grade_id = last.grade_id
                 FROM (SELECT DISTINCT ON (line.lot_id) line.lot_id, disposition.treatment, inspection.grade_id
                         FROM rma_line line
                         JOIN rma_disposition disposition ON disposition.id = line.disposition_id
                         LEFT JOIN rma_inspection inspection ON inspection.id = line.inspection_id
                        WHERE line.lot_id IS NOT NULL
                          AND (disposition.treatment = 'restock'
                               OR (disposition.treatment IN ('refurbish', 'repair')
                                   AND line.work_finished_date IS NOT NULL))
                        ORDER BY line.lot_id, line.disposition_date DESC NULLS LAST, line.id DESC) AS last
                WHERE stock_lot.id = last.lot_id"""
        )
    )
