from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .rma_line import is_luhn_valid


def with_luhn_digit(body):
    """Complete a 14-digit IMEI body with its check digit."""
    return next(f"{body}{digit}" for digit in "0123456789" if is_luhn_valid(f"{body}{digit}"))


class RmaDemo(models.AbstractModel):
    """Builds the demo data that XML cannot express: stock, delivered sales and RMAs in each state."""

    _name = "rma.demo"
    _description = "RMA Demo Data"

    @api.model
    def _load_demo(self):
        env = self.env
        laptop = env.ref("rma_recovery.demo_product_laptop")
        phone = env.ref("rma_recovery.demo_product_phone")
        switch = env.ref("rma_recovery.demo_product_switch")
        acme = env.ref("rma_recovery.demo_partner_acme")
        northwind = env.ref("rma_recovery.demo_partner_northwind")
        serials = {
            laptop: [f"PB14-{index:05d}" for index in range(1, 15)],
            phone: [with_luhn_digit(f"35693803{index:06d}") for index in range(1, 7)],
            switch: [f"SW24-{index:05d}" for index in range(1, 5)],
        }
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        self._put_in_stock(warehouse.lot_stock_id, serials)

        acme_order = self._deliver_sale(acme, {laptop: 11, phone: 3, switch: 2})
        northwind_order = self._deliver_sale(northwind, {laptop: 2, phone: 2})
        old_order = self._deliver_sale(northwind, {switch: 1})
        # An old delivery, out of warranty and outside the return window.
        old_order.picking_ids.move_ids.write({"date": fields.Datetime.now() - relativedelta(years=3)})
        self._align_stock_ledger()

        def delivered(order, product):
            lines = order.picking_ids.move_ids.move_line_ids.filtered(lambda ml: ml.product_id == product)
            return lines.lot_id.mapped("name")

        acme_laptops, acme_phones = delivered(acme_order, laptop), delivered(acme_order, phone)
        northwind_laptops = delivered(northwind_order, laptop)
        reasons = {
            code: env.ref(f"rma_recovery.rma_reason_{code}") for code in ("doa", "failed", "warranty", "not_needed")
        }
        # A trusted customer: credited or sent a replacement before the unit arrives.
        acme.rma_advance_remedy = True
        proof = env["ir.attachment"].create(
            {"name": "acme-invoice.pdf", "raw": b"%PDF-1.4 demo proof of purchase", "mimetype": "application/pdf"}
        )

        def rma(partner, order, reason, units, **extra):
            return env["rma.order"].create(
                {
                    "partner_id": partner.id,
                    "sale_order_id": order.id if order else False,
                    "customer_reference": order.client_order_ref or order.name if order else False,
                    "reason_id": reasons[reason].id,
                    "proof_attachment_ids": [fields.Command.link(proof.id)],
                    "user_id": env.ref("base.user_admin").id,
                    "line_ids": [
                        fields.Command.create(
                            {"product_id": product.id, "serial_number": serial, "remedy_requested": remedy}
                        )
                        for product, serial, *rest in units
                        for remedy in [rest[0] if rest else "refund"]
                    ],
                    **extra,
                }
            )

        rma(acme, acme_order, "doa", [(laptop, acme_laptops[0]), (phone, acme_phones[0])])
        # Flagged: a laptop that went to Northwind, and a serial nobody ever shipped.
        rma(acme, acme_order, "failed", [(laptop, northwind_laptops[0]), (laptop, "PB14-99999")])
        rma(northwind, old_order, "warranty", [(switch, delivered(old_order, switch)[0])])
        # The laptop is to be repaired and shipped back to Acme (Repair and Return).
        authorized = rma(
            acme, acme_order, "warranty", [(laptop, acme_laptops[1], "repair_return"), (phone, acme_phones[1])]
        )
        authorized.action_authorize()
        # Both units arrived; the laptop is graded, the phone waits in quarantine.
        authorized.line_ids._action_receive(station="DEMO-DOCK")
        laptop_line = authorized.line_ids.filtered(lambda line: line.product_id == laptop)
        inspection = self.env["rma.inspection"].browse(laptop_line.action_start_inspection()["res_id"])
        inspection.write(
            {
                "grade_id": env.ref("rma_recovery.rma_grade_b").id,
                "functional_result": "fail",
                "failure_code_ids": [fields.Command.set(env.ref("rma_recovery.rma_failure_keyboard").ids)],
                "is_data_bearing": True,
                "data_security": "wipe",
            }
        )
        inspection.action_done()
        # Authorized and waiting for the parcel: receive it on Inventory > Returns > Receive.
        # Acme may get its replacement before the parcel arrives (Ship Replacement on the RMA).
        rma(
            acme, acme_order, "doa", [(laptop, acme_laptops[3], "replacement"), (laptop, acme_laptops[4])]
        ).action_authorize()
        rma(acme, acme_order, "failed", [(laptop, acme_laptops[2])]).action_reject(
            "Physical damage not covered by the warranty."
        )
        rma(northwind, northwind_order, "doa", [(phone, delivered(northwind_order, phone)[0])]).action_cancel()
        self._demo_unit_to_credit(rma(northwind, northwind_order, "not_needed", [(laptop, northwind_laptops[1])]))
        self._demo_units_to_dispose(
            rma(acme, acme_order, "failed", [(laptop, serial) for serial in acme_laptops[5:11]])
        )
        self._demo_history(warehouse, laptop, acme, rma)

    def _demo_history(self, warehouse, laptop, acme, rma):
        """Six months of returns already worked through, for the KPIs (Dashboards > Returns, the KPI report): each
        month two laptops delivered to Acme and one of them returned, received, inspected, disposed (closed unless
        refurbished), with stage times a month of that age gives (set back after the fact: the custody log keeps
        the install time). And a count in quarantine that found a laptop the system did not know."""
        env = self.env
        admin = env.ref("base.user_admin")
        now = fields.Datetime.now()
        grades = {code: env.ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "d", "salvage")}
        # Month -> the grade that suggests the code: RTS, PH, REC, RTS, REF, RTS.
        findings = ["a", "salvage", "d", "a", "b", "a"]
        serials = [f"PB14-H{index:04d}" for index in range(1, 2 * len(findings) + 1)]
        self._put_in_stock(warehouse.lot_stock_id, {laptop: serials})
        units = env["rma.line"]
        for months_ago, grade in enumerate(findings, start=1):
            order = self._deliver_sale(acme, {laptop: 2})
            order.picking_ids.move_ids.write({"date": now - relativedelta(months=months_ago, days=3)})
            returned = rma(acme, order, "failed", [(laptop, order.picking_ids.move_line_ids.lot_id[:1].name)])
            returned.with_user(admin).action_authorize()
            line = returned.line_ids
            line._action_receive(station="DEMO-DOCK")
            line.action_start_inspection()
            line.inspection_id.write({"grade_id": grades[grade].id, "functional_result": "pass"})
            line.inspection_id.action_done()
            units |= line
        wizard = (
            env["rma.disposition.wizard"]
            .with_user(admin)
            .with_context(active_model="rma.line", active_ids=units.ids)
            .create({})
        )
        wizard.action_confirm()
        env.flush_all()
        # In one statement: the n-th unit was authorized n months (and a day) ago, received 24 + 6n hours later.
        env.cr.execute(
            SQL(
                """UPDATE rma_line line
                      SET authorized_date = dated.authorized,
                          received_date = dated.authorized + make_interval(hours => dated.hours),
                          inspection_done_date = dated.authorized + make_interval(hours => dated.hours + 20),
                          disposition_date = dated.authorized + make_interval(hours => dated.hours + 44),
                          closed_date = CASE WHEN line.closed_date IS NULL THEN NULL
                                             ELSE dated.authorized + make_interval(hours => dated.hours + 45) END
                     FROM (SELECT unit.id, %(now)s - make_interval(months => unit.n::int, days => 1) AS authorized,
                                  24 + 6 * unit.n::int AS hours
                             FROM unnest(%(units)s::int[]) WITH ORDINALITY AS unit(id, n)) dated
                    WHERE line.id = dated.id""",
                now=now,
                units=units.ids,
            )
        )
        env.invalidate_all()
        # The count: one laptop more in quarantine than recorded (Inventory > Reporting > Returns > Stock Accuracy).
        found = env["stock.lot"].create({"product_id": laptop.id, "name": "PB14-FOUND1"})
        env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": laptop.id,
                "location_id": warehouse.rma_quarantine_location_id.id,
                "lot_id": found.id,
                "inventory_quantity": 1,
            }
        ).action_apply_inventory()

    def _demo_unit_to_credit(self, rma):
        """A laptop Northwind no longer needs, back as new (grade A): its restocking fee applies. A manager confirms
        the refund on the unit, disposes it (RTS), creates the credit note on the RMA; an accountant posts it."""
        rma.action_authorize()
        rma.line_ids._action_receive(station="DEMO-DOCK")
        rma.line_ids.action_start_inspection()
        rma.line_ids.inspection_id.write(
            {"grade_id": self.env.ref("rma_recovery.rma_grade_a").id, "functional_result": "pass"}
        )
        rma.line_ids.inspection_id.action_done()

    def _demo_units_to_dispose(self, rma):
        """Six laptops received and inspected, one finding per disposition code: Inventory > Returns > Units,
        filter To Dispose, then Dispose."""
        env = self.env
        rma.action_authorize()
        rma.line_ids._action_receive(station="DEMO-DOCK")
        rma.line_ids.action_start_inspection()
        grade = {code: env.ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "c", "d", "salvage")}
        failure = {code: env.ref(f"rma_recovery.rma_failure_{code}") for code in ("keyboard", "liquid")}
        findings = [
            {"grade_id": grade["a"].id, "functional_result": "pass"},  # RTS
            {"grade_id": grade["b"].id, "functional_result": "pass"},  # REF
            {
                "grade_id": grade["b"].id,
                "functional_result": "fail",
                "failure_code_ids": [fields.Command.set(failure["keyboard"].ids)],
            },  # REP
            {"grade_id": grade["salvage"].id, "functional_result": "not_testable"},  # PH
            {"grade_id": grade["d"].id, "functional_result": "pass"},  # REC
            {
                "grade_id": grade["c"].id,
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": "destroy",
            },
        ]
        for line, values in zip(rma.line_ids, findings, strict=True):
            line.inspection_id.write(values)
        rma.line_ids.inspection_id.action_done()
        self._demo_draft_batch(rma.line_ids)

    def _demo_draft_batch(self, units):
        """An inspector (Marc Demo) prepared the disposition of the six laptops, with the suggested codes and net
        realizable values: a manager opens Inventory > Returns > Disposition Batches and confirms it."""
        inspector = self.env.ref("base.user_demo", raise_if_not_found=False)
        if not inspector:
            return
        inspector.group_ids = [fields.Command.link(self.env.ref("rma_recovery.group_rma_inspector").id)]
        wizard = (
            self.env["rma.disposition.wizard"]
            .with_user(inspector)
            .with_context(active_model="rma.line", active_ids=units.ids)
            .create({})
        )
        for line in wizard.line_ids:
            if line.treatment == "repair":
                line.repair_level = "l2"
        wizard.note = "Prepared at the inspection bench: codes as suggested, values from the table."
        wizard.action_prepare()
        # The laptop to destroy: Marc Demo shredded its SSD; a manager validates the certificate (the second
        # person) once the batch is confirmed, and the unit closes. Data Sanitization, filter To Validate.
        certificates = units.sanitization_ids.with_user(inspector)
        certificates.write(
            {
                "performer_name": inspector.name,
                "performer_title": "Returns technician",
                "performer_location": "Returns bench 2",
                "media_make": "Samsung",
                "media_model": "PM9A1",
                "media_serial": "S5A1NX0R123456",
                "media_type": "flash",
                "media_source": "Laptop ProBook 14",
                "method_details": "Drive removed and shredded to 2 mm particles.",
                "verification": "full",
            }
        )
        certificates.action_perform()

    def _align_stock_ledger(self):
        """The demo stock came in by inventory adjustment and left uninvoiced, which posts nothing: a stock
        closing aligns the ledger on the stock value before the returns start, so the valuation report shows
        what the returns themselves do to it."""
        company = self.env.company
        if company.chart_template and company.account_stock_journal_id and company.account_stock_valuation_id:
            if company._action_close_stock_valuation():
                company.action_close_stock_valuation(auto_post=True)

    def _put_in_stock(self, location, serials):
        quants = self.env["stock.quant"]
        for product, names in serials.items():
            lots = self.env["stock.lot"].create([{"product_id": product.id, "name": name} for name in names])
            for lot in lots:
                quants |= quants.with_context(inventory_mode=True).create(
                    {"product_id": product.id, "location_id": location.id, "lot_id": lot.id, "inventory_quantity": 1}
                )
        quants.action_apply_inventory()

    def _deliver_sale(self, partner, quantities):
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "client_order_ref": f"PO-{partner.id}-{len(quantities)}",
                "order_line": [
                    fields.Command.create({"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in quantities.items()
                ],
            }
        )
        order.action_confirm()
        pickings = order.picking_ids
        pickings.action_assign()
        pickings.move_ids.picked = True
        pickings.button_validate()
        if self.env.company.chart_template:
            order._create_invoices().action_post()
        return order
