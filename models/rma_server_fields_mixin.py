from odoo import api, models

from .rma_workflow_guard import ensure_workflow_fields


class RmaServerFieldsMixin(models.AbstractModel):
    """Refuses a client's create or write of the server-owned fields the addon declares on a model (its state, who
    and when, its links to returned units): see rma_workflow_guard. Odoo's models that the addon links to returned
    units (stock moves, repair orders, journal items) take it too."""

    _name = "rma.server.fields.mixin"
    _description = "Returns: server-owned fields"

    @api.model_create_multi
    def create(self, vals_list):
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)
