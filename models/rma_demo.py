from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from .rma_line_checks import is_luhn_valid


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
        # Dated as a delivery of then would be: its picking, moves and move lines.
        delivered_on = fields.Datetime.now() - relativedelta(years=3)
        old_order.picking_ids.write({"date_done": delivered_on, "scheduled_date": delivered_on})
        old_order.picking_ids.move_ids.write({"date": delivered_on})
        old_order.picking_ids.move_ids.move_line_ids.write({"date": delivered_on})
        web_order = self._demo_web_shop_sale(laptop, phone, warehouse.lot_stock_id)
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

        def rma(partner, order, reason, units, **extra):
            request = env["rma.order"].create(
                {
                    "partner_id": partner.id,
                    "sale_order_id": order.id if order else False,
                    "customer_reference": order.client_order_ref or order.name if order else False,
                    "reason_id": reasons[reason].id,
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
            # The proof attached to its RMA, as the form's upload does: whoever may read the RMA reads its proof.
            proof = env["ir.attachment"].create(
                {
                    "name": f"{(order.name if order else partner.name).replace('/', '-')}-invoice.pdf",
                    "raw": b"%PDF-1.4 demo proof of purchase",
                    "mimetype": "application/pdf",
                    "res_model": "rma.order",
                    "res_id": request.id,
                }
            )
            request.proof_attachment_ids = [fields.Command.link(proof.id)]
            return request

        manager, inspector = self._demo_people()
        rma(acme, acme_order, "doa", [(laptop, acme_laptops[0]), (phone, acme_phones[0])])
        # Flagged: a laptop that went to Northwind, and a serial nobody ever shipped.
        rma(acme, acme_order, "failed", [(laptop, northwind_laptops[0]), (laptop, "PB14-99999")])
        rma(northwind, old_order, "warranty", [(switch, delivered(old_order, switch)[0])])
        # The laptop is to be repaired and shipped back to Acme (Repair and Return).
        authorized = rma(
            acme, acme_order, "warranty", [(laptop, acme_laptops[1], "repair_return"), (phone, acme_phones[1])]
        )
        authorized.with_user(manager).action_authorize()
        # Both units arrived; the laptop is graded, the phone waits in quarantine.
        self._demo_receive(authorized, inspector)
        laptop_line = authorized.line_ids.filtered(lambda line: line.product_id == laptop)
        self._demo_inspect(
            laptop_line,
            [
                {
                    "grade_id": env.ref("rma_recovery.rma_grade_b").id,
                    "functional_result": "fail",
                    "failure_code_ids": [fields.Command.set(env.ref("rma_recovery.rma_failure_keyboard").ids)],
                    "is_data_bearing": True,
                    "data_security": "wipe",
                }
            ],
            inspector,
        )
        # Its SSD is purged before the repair: Marc Demo ran the erasure, the manager validated the certificate.
        self._demo_sanitize(
            laptop_line.sanitization_ids,
            inspector,
            manager,
            {
                "media_serial": "S5A1NX0R223344",
                "validator_title": "Returns manager",
                "validator_location": "Depot office",
                "tool": "Blancco Drive Eraser 7.9",
                "method_details": "NVMe Sanitize (block erase) of the whole drive.",
                "post_classification": "Unclassified",
                "media_destination": "external_reuse",
            },
        )
        # Authorized and waiting for the parcel: receive it on Inventory > Returns > Receive.
        # Acme may get its replacement before the parcel arrives (Ship Replacement on the RMA).
        rma(acme, acme_order, "doa", [(laptop, acme_laptops[3], "replacement"), (laptop, acme_laptops[4])]).with_user(
            manager
        ).action_authorize()
        rma(acme, acme_order, "failed", [(laptop, acme_laptops[2])]).with_user(manager).action_reject(
            "Physical damage not covered by the warranty."
        )
        rma(northwind, northwind_order, "doa", [(phone, delivered(northwind_order, phone)[0])]).with_user(
            manager
        ).action_cancel()
        self._demo_unit_to_credit(
            rma(northwind, northwind_order, "not_needed", [(laptop, northwind_laptops[1])]), manager, inspector
        )
        self._demo_units_to_dispose(
            rma(acme, acme_order, "failed", [(laptop, serial) for serial in acme_laptops[5:11]]), manager, inspector
        )
        self._demo_history(warehouse, laptop, acme, rma, manager, inspector)
        self._demo_intake(web_order, laptop, phone, manager)
        self._demo_dock()
        self._demo_remarketing()
        self._demo_vendor()

    def _demo_people(self):
        """Who works the demo returns: Mitchell Admin (Returns Manager) decides, confirms and validates; Marc Demo,
        made a Returns Inspector, receives, inspects and prepares. Each step runs as its user, through the step's
        own method, so every date, custody event and certificate is the one real work leaves."""
        manager = self.env.ref("base.user_admin")
        inspector = self.env.ref("base.user_demo")
        inspector.group_ids = [fields.Command.link(self.env.ref("rma_recovery.group_rma_inspector").id)]
        return manager, inspector

    def _demo_receive(self, rmas, user):
        """The parcels scanned in on the Receive screen at the demo dock: the RMA number, then each unit."""
        scan = self.env["rma.scan"].with_user(user)
        for rma in rmas:
            scan.receive_scan(rma.name, station="DEMO-DOCK")
            for line in rma.line_ids:
                scan.receive_scan(line.serial_number, rma_id=rma.id, station="DEMO-DOCK")

    def _demo_inspect(self, lines, findings, user):
        """Inspect ``lines`` as ``user``: started, graded with ``findings`` (one dict per line, in order), finished."""
        lines = lines.with_user(user)
        lines.action_start_inspection()
        for line, values in zip(lines, findings, strict=True):
            line.inspection_id.write(values)
        lines.inspection_id.action_done()

    def _demo_sanitize(self, certificates, performer, validator, values):
        """The media sanitized by ``performer``; the certificates validated by ``validator`` (the second person),
        if any."""
        certificates.with_user(performer).write(
            {
                "performer_name": performer.name,
                "performer_title": "Returns technician",
                "performer_location": "Returns bench 2",
                "media_make": "Samsung",
                "media_model": "PM9A1",
                "media_type": "flash",
                "media_source": "Laptop ProBook 14",
                "classification": "Confidential (customer data)",
                "verification": "full",
                **values,
            }
        )
        certificates.with_user(performer).action_perform()
        if validator:
            certificates.with_user(validator).action_validate()

    def _demo_history(self, warehouse, laptop, acme, rma, manager, inspector):
        """Returns already worked through, for the KPIs (Dashboards > Returns, the KPI report): for each finding, two
        laptops delivered to Acme and one of them returned, received, inspected, its refund confirmed and disposed
        (closed unless refurbished); the laptop whose drive had to be destroyed closes when its destruction
        certificate is validated. Each step runs through its own method when the demo is installed, so the stage
        times are the installation's, in the order of the steps. And a count in quarantine that found a laptop the
        system did not know."""
        env = self.env
        grades = {code: env.ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "c", "d", "salvage")}
        # The grade that suggests the code: RTS, PH, REC, RTS, REF, RTS; and SD for the drive to destroy.
        codes = ("a", "salvage", "d", "a", "b", "a")
        findings = [{"grade_id": grades[grade].id, "functional_result": "pass"} for grade in codes]
        findings.append(
            {
                "grade_id": grades["c"].id,
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": "destroy",
            }
        )
        serials = [f"PB14-H{index:04d}" for index in range(1, 2 * len(findings) + 1)]
        self._put_in_stock(warehouse.lot_stock_id, {laptop: serials})
        returns = env["rma.order"]
        for _finding in findings:
            order = self._deliver_sale(acme, {laptop: 2})
            returns |= rma(acme, order, "failed", [(laptop, order.picking_ids.move_line_ids.lot_id[:1].name)])
        returns.with_user(manager).action_authorize()
        self._demo_receive(returns, inspector)
        units = returns.line_ids
        self._demo_inspect(units, findings, inspector)
        remedy = (
            env["rma.remedy.wizard"]
            .with_user(manager)
            .with_context(active_model="rma.line", active_ids=units.ids)
            .create({"remedy": "refund"})
        )
        remedy.action_confirm()
        wizard = (
            env["rma.disposition.wizard"]
            .with_user(manager)
            .with_context(active_model="rma.line", active_ids=units.ids)
            .create({})
        )
        wizard.action_confirm()
        # The drive destroyed at the shredder by the manager, the certificate validated by Marc Demo: the unit closes.
        self._demo_sanitize(
            units.sanitization_ids,
            manager,
            inspector,
            {
                "performer_title": "Returns manager",
                "performer_location": "Depot shredder",
                "validator_title": "Returns technician",
                "validator_location": "Returns bench 2",
                "media_serial": "S5A1NX0R654321",
                "method_details": "Drive removed and shredded to 2 mm particles.",
                "post_classification": "Unclassified",
            },
        )
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

    def _demo_unit_to_credit(self, rma, manager, inspector):
        """A laptop Northwind no longer needs, back as new (grade A): its restocking fee applies. A manager confirms
        the refund on the unit, disposes it (RTS), creates the credit note on the RMA; an accountant posts it."""
        rma.with_user(manager).action_authorize()
        self._demo_receive(rma, inspector)
        self._demo_inspect(
            rma.line_ids,
            [{"grade_id": self.env.ref("rma_recovery.rma_grade_a").id, "functional_result": "pass"}],
            inspector,
        )

    def _demo_units_to_dispose(self, rma, manager, inspector):
        """Six laptops received and inspected, one finding per disposition code: Inventory > Returns > Units,
        filter To Dispose, then Dispose."""
        env = self.env
        rma.with_user(manager).action_authorize()
        self._demo_receive(rma, inspector)
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
        self._demo_inspect(rma.line_ids, findings, inspector)
        self._demo_draft_batch(rma.line_ids, inspector)

    def _demo_draft_batch(self, units, inspector):
        """An inspector (Marc Demo) prepared the disposition of the six laptops, with the suggested codes and net
        realizable values: a manager opens Inventory > Returns > Disposition Batches and confirms it."""
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
        self._demo_sanitize(
            units.sanitization_ids,
            inspector,
            None,
            {"media_serial": "S5A1NX0R123456", "method_details": "Drive removed and shredded to 2 mm particles."},
        )

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
        # Not stock_sms's warning wizard about texting the customer (a customer with a phone number).
        pickings.with_context(skip_sms=True).button_validate()
        if self.env.company.chart_template:
            order._create_invoices().action_post()
        return order
