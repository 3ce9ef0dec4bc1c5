import importlib.util
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import html2plaintext

from .common import dashboard_pivot_totals
from .common_disposition import RmaDispositionCommon
from .common_rpc import RmaRpcCommon


class RmaRemarketingCommon(RmaDispositionCommon):
    """Returned laptops refurbished into graded stock with their grade, new laptops in stock, the company's channels."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.grade = {code: ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "c")}
        cls.product = cls._new_product("fifo")
        cls.product.list_price = 1000.0
        channel_model = cls.env["rma.remarketing.channel"]
        cls.b2b = channel_model.create({"name": "B2B", "company_id": cls.company.id, "selling_cost_percent": 5.0})
        cls.outlet = channel_model.create(
            {"name": "Outlet", "company_id": cls.company.id, "selling_cost_percent": 10.0, "selling_cost_fixed": 20.0}
        )
        cls.recycler = channel_model.create({"name": "Recycler", "company_id": cls.company.id, "selling_cost_fixed": 5})
        cls.serial_count = 0

    def _serials(self, count, prefix):
        self.serial_count += count
        return [f"{prefix}-{index:04d}" for index in range(self.serial_count - count + 1, self.serial_count + 1)]

    def _graded_units(self, grade, count=1, nrv=600.0):
        """``count`` laptops bought, sold, returned, inspected with ``grade``, refurbished (REF at ``nrv``) and
        finished into graded stock, as the addon's steps do it."""
        serials = self._serials(count, f"GR{grade.code}")
        self._purchase(self.product, serials, 500.0)
        self._deliver(self.customer, self.product, serials, from_stock=True)
        rma = self._create_rma([(self.product, serial) for serial in serials])
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        units = self._inspect(rma.line_ids, grade=grade)
        self._dispose(units, self.code["REF"], net_realizable_value=nrv)
        units.with_user(self.rma_inspector).action_finish_refurbishment()
        return units

    def _new_units(self, count=1):
        serials = self._serials(count, "NEW")
        self._purchase(self.product, serials, 500.0)
        return self.env["stock.lot"].search([("name", "in", serials)])

    def _sale(self, grade=None, quantity=1, pricelist=None, price=None):
        line = {
            "product_id": self.product.id,
            "product_uom_qty": quantity,
            "rma_grade_id": grade.id if grade else False,
        }
        if price is not None:
            line["price_unit"] = price
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "pricelist_id": pricelist.id if pricelist else False,
                "order_line": [Command.create(line)],
            }
        )
        order.action_confirm()
        return order

    def _allocate(self, grade, shares):
        return self.env["rma.channel.allocation"].create(
            {
                "company_id": self.company.id,
                "grade_id": grade.id,
                "line_ids": [
                    Command.create({"channel_id": channel.id, "share": share, "sequence": index})
                    for index, (channel, share) in enumerate(shares)
                ],
            }
        )


@tagged("post_install", "-at_install")
class TestRmaRemarketing(RmaRemarketingCommon):
    def test_serial_condition_set_when_work_finishes_or_unit_restocked(self):
        unit = self._graded_units(self.grade["b"])
        self.assertRecordValues(unit.lot_id, [{"rma_condition": "refurbished", "rma_grade_id": self.grade["b"].id}])
        quant = self.env["stock.quant"].search([("lot_id", "=", unit.lot_id.id), ("quantity", ">", 0)])
        self.assertRecordValues(quant, [{"location_id": self.graded_location.id, "rma_grade_id": self.grade["b"].id}])
        restocked = self._inspected_units(self.product, self._serials(1, "RTS"))
        self._dispose(restocked, self.code["RTS"])
        self.assertRecordValues(restocked.lot_id, [{"rma_condition": "new", "rma_grade_id": self.grade["a"].id}])
        # Server-owned: no client writes a serial's condition.
        with self.assertRaises(AccessError):
            unit.lot_id.with_user(self.rma_manager).write({"rma_condition": "new"})

    def test_upgrade_gives_existing_units_their_serial_condition(self):
        refurbished = self._graded_units(self.grade["b"])
        restocked = self._inspected_units(self.product, self._serials(1, "RTS"))
        self._dispose(restocked, self.code["RTS"])
        lots = refurbished.lot_id | restocked.lot_id
        # As before the upgrade: every serial new, without a grade.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_lot SET rma_condition = 'new', rma_grade_id = NULL WHERE id = ANY(%s)", [lots.ids]
        )
        lots.invalidate_recordset()
        path = Path(__file__).parent.parent / "migrations" / "19.0.1.13.0" / "post-remarketing.py"
        spec = importlib.util.spec_from_file_location("rma_post_remarketing", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.12.0")
        lots.invalidate_recordset()
        self.assertRecordValues(
            refurbished.lot_id | restocked.lot_id,
            [
                {"rma_condition": "refurbished", "rma_grade_id": self.grade["b"].id},
                {"rma_condition": "new", "rma_grade_id": self.grade["a"].id},
            ],
        )

    def test_new_order_never_reserves_a_graded_unit(self):
        unit = self._graded_units(self.grade["b"])
        # Even a refurbished unit put back into the warehouse's stock by Odoo's own transfer is not sold as new.
        move = self.env["stock.move"].create(
            {
                "product_id": self.product.id,
                "product_uom_qty": 1,
                "location_id": self.graded_location.id,
                "location_dest_id": self.stock_location.id,
                "company_id": self.company.id,
            }
        )
        move._action_confirm()
        move._action_assign()
        move.picked = True
        move._action_done()
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(self.product, self.stock_location, lot_id=unit.lot_id), 1.0
        )
        order = self._sale()
        delivery = order.picking_ids
        self.assertRecordValues(delivery.move_ids, [{"rma_condition": "new", "state": "confirmed", "quantity": 0.0}])
        self.assertFalse(delivery.move_line_ids)
        # A new unit arrives: the delivery reserves it, not the refurbished one beside it.
        new_lot = self._new_units()
        delivery.action_assign()
        self.assertEqual(delivery.move_line_ids.lot_id, new_lot)
        self.assertEqual(delivery.state, "assigned")

    def test_grade_b_order_reserves_a_grade_b_unit_from_graded_stock(self):
        unit_a = self._graded_units(self.grade["a"])
        unit_b = self._graded_units(self.grade["b"])
        self._new_units()
        order = self._sale(self.grade["b"])
        delivery = order.picking_ids
        self.assertRecordValues(
            delivery.move_ids,
            [
                {
                    "rma_condition": "refurbished",
                    "rma_grade_id": self.grade["b"].id,
                    "location_id": self.graded_location.id,
                    "state": "assigned",
                }
            ],
        )
        self.assertEqual(delivery.location_id, self.graded_location)
        self.assertEqual(delivery.move_line_ids.lot_id, unit_b.lot_id)
        # No grade-C unit in graded stock: a grade-C order waits (the A, B and new units are not of its condition).
        self.assertFalse(self._sale(self.grade["c"]).picking_ids.move_line_ids)
        # Picked by hand, a unit of another condition is refused with the reason.
        with self.assertRaises(ValidationError) as caught:
            delivery.move_line_ids.lot_id = unit_a.lot_id
        self.assertIn("not a refurbished unit of grade", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._sale().picking_ids.move_ids.write(
                {
                    "move_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "lot_id": unit_a.lot_id.id,
                                "quantity": 1,
                                "location_id": self.graded_location.id,
                                "location_dest_id": self.customer_location.id,
                            }
                        )
                    ]
                }
            )
        self.assertIn("asks for new units", str(caught.exception))
        # The delivery goes: the unit leaves graded stock and its path ends, recorded with the move.
        delivery.move_ids.picked = True
        delivery.button_validate()
        self.assertRecordValues(unit_b, [{"state": "closed", "remarketing_move_id": delivery.move_ids.id}])
        # The delivery slip names the serial's condition beside it.
        self.env.user.group_ids += self.env.ref("stock.group_lot_on_delivery_slip")
        html = self.env["ir.actions.report"]._render_qweb_html("stock.action_report_delivery", delivery.ids)[0]
        text = " ".join(html2plaintext(html.decode()).split())
        self.assertIn(f"{unit_b.lot_id.name} Refurbished, grade B", text)

    def test_backorder_keeps_the_condition(self):
        unit = self._graded_units(self.grade["b"])
        self._new_units()
        delivery = self._sale(self.grade["b"], quantity=2).picking_ids
        self.assertEqual(delivery.move_line_ids.lot_id, unit.lot_id)
        # Warehouse staff ship the one grade-B unit there is; the rest waits as a grade-B backorder.
        delivery.move_ids.picked = True
        delivery.with_user(self.rma_user)._action_done()
        backorder = delivery.backorder_ids
        self.assertRecordValues(
            backorder.move_ids,
            [
                {
                    "rma_condition": "refurbished",
                    "rma_grade_id": self.grade["b"].id,
                    "location_id": self.graded_location.id,
                    "product_uom_qty": 1.0,
                    "quantity": 0.0,
                }
            ],
        )

    def test_pricelist_prices_each_grade(self):
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "Refurbished",
                "company_id": self.company.id,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "3_global",
                            "compute_price": "percentage",
                            "percent_price": 35.0,
                            "rma_grade_id": self.grade["b"].id,
                        }
                    ),
                    Command.create(
                        {
                            "applied_on": "1_product",
                            "product_tmpl_id": self.product.product_tmpl_id.id,
                            "compute_price": "fixed",
                            "fixed_price": 900.0,
                            "rma_grade_id": self.grade["a"].id,
                        }
                    ),
                    Command.create({"applied_on": "3_global", "compute_price": "percentage", "percent_price": 0.0}),
                ],
            }
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "pricelist_id": pricelist.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "rma_grade_id": grade.id if grade else False})
                    for grade in (None, self.grade["a"], self.grade["b"], self.grade["c"])
                ],
            }
        )
        self.assertEqual(order.order_line.mapped("price_unit"), [1000.0, 900.0, 650.0, 1000.0])
        # The condition changed before confirmation: the grade's price applies.
        order.order_line[0].rma_grade_id = self.grade["b"]
        self.assertEqual(order.order_line[0].price_unit, 650.0)

    def test_units_allocated_to_channels_by_shares(self):
        with self.assertRaises(ValidationError) as caught:
            self._allocate(self.grade["c"], [(self.b2b, 60.0), (self.outlet, 30.0)])
            self.env.flush_all()
        self.assertIn("add up to 90.0%", str(caught.exception))
        allocation = self._allocate(self.grade["c"], [(self.b2b, 60.0), (self.outlet, 40.0)])
        units = self._graded_units(self.grade["c"], count=5)
        self.assertEqual(
            units.sorted("id").mapped("remarketing_channel_id"),
            self.b2b + self.outlet + self.b2b + self.outlet + self.b2b,
        )
        # Largest remainder over all the grade's units: the next ones keep the shares (6 and 4 of 10).
        more = self._graded_units(self.grade["c"], count=5)
        channels = (units | more).mapped("remarketing_channel_id")
        self.assertEqual(
            [len((units | more).filtered(lambda unit, c=c: unit.remarketing_channel_id == c)) for c in channels],
            [6, 4],
        )
        # Shares are edited together (the form's save): one share alone off 100% is refused.
        allocation.write({"line_ids": [Command.update(line.id, {"share": 50.0}) for line in allocation.line_ids]})
        self.env.flush_all()
        with self.assertRaises(ValidationError) as caught:
            allocation.line_ids[0].share = 20.0
            self.env.flush_all()
        self.assertIn("add up to 70.0%", str(caught.exception))

    def test_realized_recovery_of_a_sold_unit(self):
        self._allocate(self.grade["b"], [(self.outlet, 100.0)])
        unit = self._graded_units(self.grade["b"], nrv=600.0)
        self.assertEqual(unit.remarketing_channel_id, self.outlet)
        report = self.env["rma.remarketing.report"]
        self.assertRecordValues(
            report.search([("unit_id", "=", unit.id)]),
            [
                {
                    "status": "in_stock",
                    "grade_id": self.grade["b"].id,
                    "net_realizable_value": 600.0,
                    "realized_value": 0,
                }
            ],
        )
        order = self._sale(self.grade["b"], price=700.0)
        delivery = order.picking_ids
        delivery.move_ids.picked = True
        delivery.button_validate()
        invoice = order._create_invoices()
        invoice.action_post()
        invoice_line = invoice.invoice_line_ids.filtered(lambda line: line.product_id == self.product)
        self.assertEqual(invoice_line.price_unit, 700.0)
        # The outlet costs 10% of the price and 20 per unit: 700 - 90 = 610 realized, against 600 booked.
        report.invalidate_model()  # a view: the rows read before the sale are re-read
        self.assertRecordValues(
            report.search([("unit_id", "=", unit.id)]),
            [
                {
                    "status": "sold",
                    "channel_id": self.outlet.id,
                    "sale_line_id": order.order_line.id,
                    "sale_price": invoice_line.price_unit,
                    "selling_cost": 90.0,
                    "realized_value": 610.0,
                    "sold_nrv": 600.0,
                }
            ],
        )
        self.assertAlmostEqual(report._realized_recovery([("unit_id", "=", unit.id)]), 610.0 / 600.0 * 100.0)
        # The Returns dashboard's realized recovery (Data!B13): the graded units sold, by the day they were graded.
        totals = dashboard_pivot_totals(self.env(user=self.rma_manager), "16", day=unit.work_finished_date.date())
        self.assertAlmostEqual(totals["realized_value"] / totals["sold_nrv"], 610.0 / 600.0)
        self.assertIsNone(report._realized_recovery([("unit_id", "=", 0)]))


@tagged("post_install", "-at_install")
class TestRmaRemarketingAccess(RmaRpcCommon):
    def test_only_managers_edit_channels_and_allocations(self):
        channel = self.env["rma.remarketing.channel"].create({"name": "B2B", "company_id": self.company.id})
        allocation = self.env["rma.channel.allocation"].create(
            {
                "company_id": self.company.id,
                "grade_id": self.grade_a.id,
                "line_ids": [Command.create({"channel_id": channel.id, "share": 100.0})],
            }
        )
        # An inspector (the most a non-manager is) reads them, and may not change them.
        for user in (self.rma_user, self.rma_inspector):
            self.assertIn("result", self._call(user, "rma.remarketing.channel", "read", [channel.id], ["name"]))
            self.assertRefused(self._call(user, "rma.remarketing.channel", "write", [channel.id], {"name": "Mine"}))
            self.assertRefused(
                self._call(user, "rma.channel.allocation.line", "write", allocation.line_ids.ids, {"share": 50.0})
            )
            self.assertRefused(
                self._call(user, "rma.channel.allocation", "create", {"grade_id": self.grade_a.id, "line_ids": []})
            )
        answer = self._call(self.rma_manager, "rma.remarketing.channel", "write", [channel.id], {"name": "B2B Resale"})
        self.assertIs(answer.get("result"), True)
        self.assertEqual(channel.name, "B2B Resale")
