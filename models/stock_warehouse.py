from odoo import fields, models
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

# Warehouse field -> (location name, usage, barcode suffix). Quarantine and graded stock are internal
# locations beside (not under) the warehouse's stock, so deliveries never reserve from them; the WIP and
# disposal locations are outside the company's internal stock, so units there are not available at all.
# They are children of the warehouse's view location: archiving the warehouse archives them too.
RETURN_LOCATIONS = {
    "rma_quarantine_location_id": (_lt("Returns Quarantine"), "internal", "RMAQ"),
    "rma_refurbish_location_id": (_lt("Refurbishment WIP"), "inventory", "RMAREF"),
    "rma_repair_location_id": (_lt("Repair WIP"), "inventory", "RMAREP"),
    "rma_harvest_location_id": (_lt("Parts Harvest"), "inventory", "RMAPH"),
    "rma_recycle_location_id": (_lt("Recycling"), "inventory", "RMAREC"),
    "rma_destruction_location_id": (_lt("Secure Destruction"), "inventory", "RMASD"),
    "rma_graded_location_id": (_lt("Graded / Remarketing"), "internal", "RMAGRD"),
}


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

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

    def _get_locations_values(self, vals, code=False):
        values = super()._get_locations_values(vals, code=code)
        code = (vals.get("code") or code or "").replace(" ", "").upper()
        company_id = vals.get("company_id", self.default_get(["company_id"])["company_id"])
        for field_name, (name, usage, suffix) in RETURN_LOCATIONS.items():
            values[field_name] = {
                "name": str(name),
                "usage": usage,
                "active": True,
                "barcode": self._valid_barcode(code + suffix, company_id),
            }
        return values

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
            picking_type_values = warehouse._create_or_update_sequences_and_picking_types()
            if picking_type_values:
                warehouse.write(picking_type_values)
