"""19.0.1.2.0: the WIP and disposal locations move from under their warehouse to the company's top-level "Returns"
view (Odoo's limit=1 lookups of the inventory-loss location could take them for the company's own); every company
with a chart gets its RMA journal now."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

from odoo.addons.rma_recovery.models.stock_warehouse import OUTSIDE_LOCATIONS


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    warehouses = env["stock.warehouse"].with_context(active_test=False).search([])
    views = warehouses.company_id._get_rma_location_view()
    for warehouse in warehouses:
        for field_name, (name, _suffix) in OUTSIDE_LOCATIONS.items():
            location = warehouse[field_name]
            if location and location.location_id != views[warehouse.company_id]:
                if not location.company_id:
                    # 19.0.1.1.0 made them without a company: they hold only the warehouse's company's units, and
                    # Odoo forbids setting the company of a location that has moves through the ORM.
                    company_id = warehouse.company_id.id
                    cr.execute(SQL("UPDATE stock_location SET company_id = %s WHERE id = %s", company_id, location.id))
                    location.invalidate_recordset(["company_id"])
                location.write(
                    {
                        "location_id": views[warehouse.company_id].id,
                        "name": f"{warehouse.code}: {name._translate(env.lang or 'en_US')}",
                    }
                )
    env["res.company"].search([("chart_template", "!=", False)])._create_rma_journal()
