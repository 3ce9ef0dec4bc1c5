from odoo import api, fields, models
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

# Warehouse field -> (location name, barcode suffix). Quarantine and graded stock are internal locations beside (not
# under) the warehouse's stock, so deliveries never reserve from them.
STOCK_LOCATIONS = {
    "rma_quarantine_location_id": (_lt("Returns Quarantine"), "RMAQ"),
    "rma_graded_location_id": (_lt("Graded / Remarketing"), "RMAGRD"),
}
# Warehouse field -> (location name, barcode suffix). The WIP and disposal locations are outside the company's stock
# (usage "inventory": units there are not available and Odoo values the moves into them). Odoo looks up *the*
# company's inventory-loss location by usage with limit=1 (repair's scrap location, stock_account, inventory
# adjustments), in location order (complete name): Odoo keeps its own at the top level ("Inventory adjustment",
# "Scrap"), and these stand under a top-level "Returns" view of the company, after them, rather than under a
# warehouse whose code may sort first. Each belongs to its warehouse through the field (and is archived with it).
OUTSIDE_LOCATIONS = {
    "rma_refurbish_location_id": (_lt("Refurbishment WIP"), "RMAREF"),
    "rma_repair_location_id": (_lt("Repair WIP"), "RMAREP"),
    "rma_harvest_location_id": (_lt("Parts Harvest"), "RMAPH"),
    "rma_recycle_location_id": (_lt("Recycling"), "RMAREC"),
    "rma_destruction_location_id": (_lt("Secure Destruction"), "RMASD"),
}


class StockWarehouse(models.Model):
    _name = "stock.warehouse"
    _inherit = ["stock.warehouse", "mail.alias.mixin.optional"]  # the Returns alias (models/rma_order_mail.py)

    rma_quarantine_location_id = fields.Many2one("stock.location", "Returns Quarantine", check_company=True, copy=False)
    rma_refurbish_location_id = fields.Many2one("stock.location", "Refurbishment WIP", check_company=True, copy=False)
    rma_repair_location_id = fields.Many2one("stock.location", "Repair WIP", check_company=True, copy=False)
    rma_harvest_location_id = fields.Many2one("stock.location", "Parts Harvest", check_company=True, copy=False)
    rma_recycle_location_id = fields.Many2one("stock.location", "Recycling", check_company=True, copy=False)
    rma_destruction_location_id = fields.Many2one(
        "stock.location", "Secure Destruction", check_company=True, copy=False
    )
    rma_graded_location_id = fields.Many2one(
        "stock.location", "Graded / Remarketing Stock", check_company=True, copy=False
    )
    rma_receipt_type_id = fields.Many2one("stock.picking.type", "RMA Receipt Type", check_company=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        warehouses._create_rma_outside_locations()
        return warehouses

    def write(self, vals):
        result = super().write(vals)
        if "active" in vals:
            # Archived with their warehouse, as its own locations are.
            self._rma_outside_locations().with_context(active_test=False).write({"active": vals["active"]})
        return result

    def _get_locations_values(self, vals, code=False):
        values = super()._get_locations_values(vals, code=code)
        code = (vals.get("code") or code or "").replace(" ", "").upper()
        company_id = vals.get("company_id", self.default_get(["company_id"])["company_id"])
        for field_name, (name, suffix) in STOCK_LOCATIONS.items():
            values[field_name] = {
                "name": str(name),
                "usage": "internal",
                "active": True,
                "barcode": self._valid_barcode(code + suffix, company_id),
            }
        return values

    def _rma_outside_locations(self):
        return self.env["stock.location"].union(*(self.mapped(field_name) for field_name in OUTSIDE_LOCATIONS))

    def _create_rma_outside_locations(self):
        """The WIP and disposal locations of the warehouses that have none yet (see OUTSIDE_LOCATIONS)."""
        views = self.company_id._get_rma_location_view()
        missing = [
            (warehouse, field_name)
            for warehouse in self
            for field_name in OUTSIDE_LOCATIONS
            if not warehouse[field_name]
        ]
        if not missing:
            return
        # As the user who creates the warehouse, like Odoo's own locations of it (the same group may create both):
        # what Odoo computes on the way (e.g. purchase_stock's buy_to_resupply reading the Buy route's warehouses)
        # must not stay cached as the superuser read it, with other companies' warehouses the user may not read.
        locations = self.env["stock.location"].create(
            [
                {
                    "name": f"{warehouse.code}: {OUTSIDE_LOCATIONS[field_name][0]._translate(self.env.lang)}",
                    "barcode": self._valid_barcode(
                        warehouse.code.replace(" ", "").upper() + OUTSIDE_LOCATIONS[field_name][1],
                        warehouse.company_id.id,
                    ),
                    "usage": "inventory",
                    "location_id": views[warehouse.company_id].id,
                    "company_id": warehouse.company_id.id,
                    "active": warehouse.active,
                }
                for warehouse, field_name in missing
            ]
        )
        values = {}
        for (warehouse, field_name), location in zip(missing, locations, strict=True):
            values.setdefault(warehouse, {})[field_name] = location.id
        for warehouse, warehouse_values in values.items():
            warehouse.write(warehouse_values)

    def _get_sequence_values(self, name=False, code=False):
        values = super()._get_sequence_values(name=name, code=code)
        values["rma_receipt_type_id"] = {
            "name": self.env._("%(name)s Sequence RMA receipt", name=self.name),
            "prefix": self.code + "/" + (self.rma_receipt_type_id.sequence_code or "RMA") + "/",
            "padding": 5,
            "company_id": self.company_id.id,
        }
        return values

    def _get_picking_type_create_values(self, max_sequence):
        data, next_sequence = super()._get_picking_type_create_values(max_sequence)
        data["rma_receipt_type_id"] = {
            "name": self.env._("RMA Receipts"),
            "code": "incoming",
            "default_location_src_id": self.env.ref("stock.stock_location_customers").id,
            "default_location_dest_id": self.rma_quarantine_location_id.id,
            "sequence": next_sequence + 1,
            "sequence_code": "RMA",
            "company_id": self.company_id.id,
            "use_create_lots": True,
            "use_existing_lots": True,
        }
        return data, next_sequence + 2

    def _get_picking_type_update_values(self):
        data = super()._get_picking_type_update_values()
        data["rma_receipt_type_id"] = {
            "active": self.active,
            "default_location_dest_id": self.rma_quarantine_location_id.id,
            "barcode": self.code.replace(" ", "").upper() + "RMAIN",
        }
        return data

    def _create_rma_data(self):
        """Create the return locations and receipt type of warehouses made before the addon was installed."""
        for warehouse in self:
            warehouse._create_missing_locations({})
            warehouse._create_rma_outside_locations()
            picking_type_values = warehouse._create_or_update_sequences_and_picking_types()
            if picking_type_values:
                warehouse.write(picking_type_values)

    def _alias_get_creation_values(self):
        """The warehouse's Returns alias: each mail to it is a draft RMA of the warehouse's company, to be shipped
        back to it (rma.order.message_new)."""
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("rma.order")
        if self.id:
            values["alias_defaults"] = repr({"company_id": self.company_id.id, "warehouse_id": self.id})
        return values
