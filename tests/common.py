import importlib.util
import json
import os
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import Form, new_test_user
from odoo.tools import SQL, file_open

from odoo.addons.base.tests.common import BaseCommon
from odoo.addons.rma_recovery.models.rma_demo import with_luhn_digit

TOOLS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools")


def stand_in_base_demo(env):
    """The records of base's demo data the addon's demo refers to (Marc Demo, Joel Willis the portal user, and their
    partners), on a database installed without it (``make test``)."""
    if env.ref("base.user_demo", raise_if_not_found=False):
        return
    marc = new_test_user(env, login="rma_demo_marc", name="Marc Demo", groups="base.group_user")
    joel = new_test_user(
        env,
        login="rma_demo_portal",
        password="rma_demo_portal",
        name="Joel Willis",
        email="joel.willis63@example.com",
        groups="base.group_portal",
    )
    env["ir.model.data"].create(
        [
            {"module": "base", "name": name, "model": record._name, "res_id": record.id, "noupdate": True}
            for name, record in (
                ("user_demo", marc),
                ("partner_demo", marc.partner_id),
                ("demo_user0", joel),
                ("partner_demo_portal", joel.partner_id),
            )
        ]
    )


def dashboard_data(file_name="returns_dashboard.json"):
    """The Returns dashboard's spreadsheet (data/files/, built by tools/build_returns_dashboard.py)."""
    with file_open(f"rma_recovery/data/files/{file_name}") as file:
        return json.load(file)


def dashboard_pivot_totals(env, pivot_id, day=None, data=None):
    """A dashboard pivot's totals for one day, as the dashboard asks them: its domain, the period filter on its
    date field, its measures with their aggregators (``env``'s user reads them)."""
    data = data or dashboard_data()
    pivot = data["pivots"][pivot_id]
    date_field = pivot["fieldMatching"][data["globalFilters"][0]["id"]]["chain"]
    start = fields.Datetime.to_datetime(day or fields.Date.context_today(env.user))
    end = start + timedelta(days=1)
    measures = [f"{measure['fieldName']}:{measure.get('aggregator', 'sum')}" for measure in pivot["measures"]]
    domain = pivot["domain"] + [(date_field, ">=", start), (date_field, "<", end)]
    [values] = env[pivot["model"]]._read_group(domain, [], measures)
    return dict(zip((measure["fieldName"] for measure in pivot["measures"]), values, strict=True))


def tool_path(file_name):
    return os.path.join(TOOLS, file_name)


def load_tool(file_name):
    """A standalone script of tools/ as a module (the scripts are not part of the addon's package)."""
    spec = importlib.util.spec_from_file_location(file_name.removesuffix(".py"), tool_path(file_name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RmaCommon(BaseCommon):
    """A company of its own with a warehouse, serial-tracked laptops and phones, customers and one user per group.

    No demo data is used: each test delivers the units it returns.
    """

    @classmethod
    def setup_independent_company(cls, **kwargs):
        return cls._create_company(name="RMA Test Company")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customer_location = cls.env.ref("stock.stock_location_customers")
        cls.company.write({"rma_return_window_days": 30, "rma_warranty_months": 12})

        cls.category = cls.env["product.category"].create({"name": "RMA Test IT"})
        cls.laptop = cls._create_product("Test Laptop", tracking="serial")
        cls.phone = cls._create_product("Test Phone", tracking="serial", rma_identifier_type="imei")
        cls.cable = cls._create_product("Test Cable", tracking="none")

        cls.customer = cls.env["res.partner"].create({"name": "Customer One", "is_company": True})
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "Customer One, Buyer", "parent_id": cls.customer.id}
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Customer Two", "is_company": True})
        cls.reason = cls.env["rma.reason"].create({"name": "Test defect", "code": "TDEF", "is_proof_required": False})
        cls.reason_with_proof = cls.env["rma.reason"].create(
            {"name": "Test proof", "code": "TPRF", "is_proof_required": True}
        )

        cls.rma_user = cls._new_user("rma_user", "rma_recovery.group_rma_user")
        cls.rma_inspector = cls._new_user("rma_inspector", "rma_recovery.group_rma_inspector")
        cls.rma_manager = cls._new_user("rma_manager", "rma_recovery.group_rma_manager")

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @classmethod
    def _new_user(cls, login, groups, company=None, **values):
        """A user of ``company`` only (the test company by default) in ``groups``, XML ids separated by commas; the
        password is the login."""
        company = company or cls.company
        return new_test_user(
            cls.env, login=login, groups=groups, company_id=company.id, company_ids=[Command.set(company.ids)], **values
        )

    @classmethod
    def _create_product(cls, name, **values):
        return cls.env["product.product"].create(
            {"name": name, "type": "consu", "is_storable": True, "categ_id": cls.category.id, **values}
        )

    @classmethod
    def _imei(cls, index):
        return with_luhn_digit(f"35693803{index:06d}")

    @classmethod
    def _deliver(cls, partner, product, serials=(), quantity=0, sale_order=None, from_stock=False):
        """Put the units in stock (unless ``from_stock``: they are there already) and deliver them to ``partner``
        through a validated outgoing picking."""
        quant_model = cls.env["stock.quant"]
        lot_model = cls.env["stock.lot"]
        existing = lot_model.search([("product_id", "=", product.id), ("name", "in", list(serials))])
        lots = existing | lot_model.create(
            [{"product_id": product.id, "name": serial} for serial in serials if serial not in existing.mapped("name")]
        )
        for lot in lots if not from_stock else ():
            if lot in existing:  # a unit that came back: take it out of the customer's location first
                quant_model._update_available_quantity(product, cls.customer_location, -1, lot_id=lot)
            quant_model._update_available_quantity(product, cls.stock_location, 1, lot_id=lot)
        if quantity and not from_stock:
            quant_model._update_available_quantity(product, cls.stock_location, quantity)
        picking = cls.env["stock.picking"].create(
            {
                "partner_id": partner.id,
                "picking_type_id": cls.warehouse.out_type_id.id,
                "location_id": cls.stock_location.id,
                "location_dest_id": cls.customer_location.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": len(serials) or quantity,
                            "location_id": cls.stock_location.id,
                            "location_dest_id": cls.customer_location.id,
                            "sale_line_id": sale_order.order_line.filtered(lambda line: line.product_id == product)[
                                :1
                            ].id
                            if sale_order
                            else False,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.move_ids.move_line_ids.unlink()
        picking.move_ids.write(
            {
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "lot_id": lot.id,
                            "quantity": 1,
                            "location_id": cls.stock_location.id,
                            "location_dest_id": cls.customer_location.id,
                        }
                    )
                    for lot in lots
                ]
                or [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": quantity,
                            "location_id": cls.stock_location.id,
                            "location_dest_id": cls.customer_location.id,
                        }
                    )
                ],
                "picked": True,
            }
        )
        picking._action_done()
        return picking

    def _validate_with_lots(self, picking, lots):
        """Validate ``picking`` (one move of a serial product) with exactly these serials, as a user picks them."""
        move = picking.move_ids
        move.move_line_ids.unlink()
        move.write(
            {
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": move.product_id.id,
                            "lot_id": lot.id,
                            "quantity": 1,
                            "location_id": picking.location_id.id,
                            "location_dest_id": picking.location_dest_id.id,
                        }
                    )
                    for lot in lots
                ],
                "picked": True,
            }
        )
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def _native_return(self, delivery, lots):
        """Odoo's own return wizard on ``delivery`` for these serials, validated."""
        wizard = Form(
            self.env["stock.return.picking"].with_context(active_id=delivery.id, active_model="stock.picking")
        ).save()
        wizard.product_return_moves.quantity = len(lots)
        return self._validate_with_lots(wizard._create_return(), lots)

    def _authorized_rma(self, serials, product=None, **values):
        """Deliver ``serials`` to the customer and return an authorized RMA for them."""
        product = product or self.laptop
        self._deliver(self.customer, product, serials)
        rma = self._create_rma([(product, serial) for serial in serials], **values)
        rma.action_authorize()
        return rma

    def _scan(self, *codes, rma=None, user=None, station="DOCK-1"):
        """Scan codes on the Receive screen, as the screen does; returns the last answer."""
        scan = self.env["rma.scan"].with_user(user) if user else self.env["rma.scan"]
        result = None
        for code in codes:
            result = scan.receive_scan(
                code, rma_id=rma.id if rma else (result or {}).get("rma", {}).get("id"), station=station
            )
        return result

    def _received_rma(self, serials):
        """An authorized RMA for ``serials``, each unit scanned in on the Receive screen."""
        rma = self._authorized_rma(serials)
        self._scan(rma.name, *serials)
        return rma

    def _check(self):
        """The custody chain's integrity check of the test company."""
        return self.env["rma.custody.event"]._check_integrity(self.company)

    def _sql(self, query, *args):
        """Run ``SQL(query, *args)`` on the database behind the ORM's back (as a tamperer would), caches in step."""
        self.env.flush_all()
        self.env.cr.execute(SQL(query, *args))
        self.env.invalidate_all()

    def _create_rma(self, units, partner=None, user=None, **values):
        """``units``: (product, serial) or (product, None, quantity) tuples."""
        env = self.env(user=user) if user else self.env
        lines = []
        for unit in units:
            product, serial, *rest = unit
            line = {"product_id": product.id, "serial_number": serial}
            if rest:
                line["quantity"] = rest[0]
            lines.append(Command.create(line))
        return env["rma.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "reason_id": self.reason.id,
                "line_ids": lines,
                **values,
            }
        )


class RmaTourMixin:
    """For browser tests on the database's own company (as the tours log in): deliver serial units to a customer and
    authorize their return."""

    def _deliver(self, customer, product, serials):
        env = self.env
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.ref("base.user_admin").company_id.id)], limit=1
        )
        customers = env.ref("stock.stock_location_customers")
        lots = env["stock.lot"].create([{"product_id": product.id, "name": serial} for serial in serials])
        for lot in lots:
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1, lot_id=lot)
        picking = env["stock.picking"].create(
            {
                "partner_id": customer.id,
                "picking_type_id": warehouse.out_type_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": customers.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": len(serials),
                            "location_id": warehouse.lot_stock_id.id,
                            "location_dest_id": customers.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking._action_done()
        self.assertEqual(picking.move_line_ids.lot_id, lots)
        return lots

    def _authorized_rma(self, customer, reason, product, serials):
        rma = self.env["rma.order"].create(
            {
                "partner_id": customer.id,
                "reason_id": reason.id,
                "line_ids": [Command.create({"product_id": product.id, "serial_number": serial}) for serial in serials],
            }
        )
        rma.action_authorize()
        return rma
