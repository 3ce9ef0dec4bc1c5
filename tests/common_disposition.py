from odoo import Command
from odoo.tests import Form

from .common_accounting import RmaAccountingCommon


class RmaDispositionCommon(RmaAccountingCommon):
    """Inspected units in quarantine, ready for the disposition wizard, with the accounts the contract names."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.code = {
            code: ref(f"rma_recovery.rma_disposition_{code.lower()}")
            for code in ("RTS", "REF", "REP", "PH", "REC", "SD")
        }
        cls.grade_a = ref("rma_recovery.rma_grade_a")
        company = cls.company
        cls.wip_account = company.account_production_wip_account_id
        cls.expense_account = company.expense_account_id
        accounts = cls.code["REF"]._get_accounts(cls.laptop, company)
        cls.accrued_account = accounts["accrued_cost"]
        cls.income_account = cls.code["PH"]._get_accounts(cls.laptop, company)["income"]
        cls.recovery_account = cls.code["PH"]._get_accounts(cls.laptop, company)["recovery"]
        cls.warehouse_locations = {code: cls.code[code]._get_destination(cls.warehouse) for code in cls.code}
        cls.graded_location = cls.warehouse.rma_graded_location_id
        cls.quarantine = cls.warehouse.rma_quarantine_location_id
        cls._product_count = 0

    @classmethod
    def _new_product(cls, cost_method="fifo", valuation="real_time"):
        """A serial-tracked product of its own category (own average cost, own FIFO queue)."""
        cls._product_count += 1
        category = cls.env["product.category"].create(
            {
                "name": f"RMA {cost_method} {valuation} {cls._product_count}",
                "property_cost_method": cost_method,
                "property_valuation": valuation,
                "property_stock_valuation_account_id": cls.stock_valuation_account.id,
                "property_account_expense_categ_id": cls.cogs_account.id,
            }
        )
        return cls.env["product.product"].create(
            {
                "name": f"Returned device {cls._product_count}",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "categ_id": category.id,
            }
        )

    def _inspected_units(self, product, serials, price=500.0, customer=None):
        """Bought at ``price``, delivered to the customer, returned, received into quarantine and inspected."""
        customer = customer or self.customer
        self._purchase(product, serials, price)
        self._deliver(customer, product, serials, from_stock=True)
        rma = self._create_rma([(product, serial) for serial in serials], partner=customer)
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        return self._inspect(rma.line_ids)

    def _inspect(self, lines, grade=None, functional_result="pass"):
        inspector_lines = lines.with_user(self.rma_inspector)
        inspector_lines.action_start_inspection()
        inspector_lines.inspection_id.write(
            {"grade_id": (grade or self.grade_a).id, "functional_result": functional_result}
        )
        inspector_lines.inspection_id.action_done()
        return lines

    def _data_bearing_unit(self, serial, requirement, **product_values):
        """A data-bearing unit (``requirement``: wipe or destroy) of a new product, bought, delivered, returned,
        received and inspected: the inspection drafted its certificate of sanitization."""
        product = self._new_product("fifo")
        product.write(product_values)
        self._purchase(product, [serial], 500.0)
        self._deliver(self.customer, product, [serial], from_stock=True)
        rma = self._create_rma([(product, serial)])
        rma.action_authorize()
        line = rma.line_ids
        self.env["stock.picking"]._rma_receive(line, station="DOCK-1")
        inspector_line = line.with_user(self.rma_inspector)
        inspector_line.action_start_inspection()
        inspector_line.inspection_id.write(
            {
                "grade_id": self.grade_a.id,
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": requirement,
            }
        )
        inspector_line.inspection_id.action_done()
        return line

    def _dispose(self, lines, code, user=None, per_unit=None, **values):
        """Dispose ``lines`` through the wizard (as a manager by default): ``code`` is a disposition or
        {unit: disposition}; ``values`` apply to every unit, ``per_unit`` = {unit: values} to one."""
        wizard_model = self.env["rma.disposition.wizard"].with_user(user or self.rma_manager)
        form = Form(wizard_model.with_context(active_model="rma.line", active_ids=lines.ids))
        for index in range(len(form.line_ids)):
            with form.line_ids.edit(index) as row:
                unit = row.unit_id
                row.disposition_id = code[unit] if isinstance(code, dict) else code
                for name, value in {**values, **(per_unit or {}).get(unit, {})}.items():
                    setattr(row, name, value)
        return form.save().action_confirm()

    def _harvest(self, unit, parts, user=None):
        """The Harvest Parts wizard: ``parts`` = [(product, quantity, value of one)]."""
        wizard = Form(
            self.env["rma.harvest.wizard"].with_user(user or self.rma_inspector).with_context(default_unit_id=unit.id)
        )
        for product, quantity, value in parts:
            with wizard.part_ids.new() as part:
                part.product_id = product
                part.quantity = quantity
                part.unit_value = value
        return wizard.save().action_confirm()

    def _balance(self, line, account):
        """The balance of the unit's journal items on ``account``."""
        return sum(line.account_move_line_ids.filtered(lambda aml: aml.account_id == account).mapped("balance"))

    def _confirm_batch(self, values, user=None):
        """A disposition batch of {unit: values} created and confirmed by ``user`` (a manager by default), as a client
        of the server would: the batch is the document that disposes."""
        batch_model = self.env["rma.disposition.batch"].with_user(user or self.rma_manager)
        batch = batch_model.create(
            {
                "company_id": self.company.id,
                "line_ids": [
                    Command.create({"unit_id": unit.id, **unit_values}) for unit, unit_values in values.items()
                ],
            }
        )
        return batch.action_confirm()

    def _sold_and_invoiced(self, cost, product, serials, sale_price=1000.0, discount=0.0, invoiced=True, close=True):
        """Bought at ``cost``, sold on a sale order at ``sale_price``, delivered with the serials and (``invoiced``)
        invoiced, with its COGS. ``close``: the stock valuation closed after the purchase, so stock and ledger start
        equal."""
        self._purchase(product, serials, cost)
        if close:
            self.company.action_close_stock_valuation(auto_post=True)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": len(serials),
                            "price_unit": sale_price,
                            "discount": discount,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        delivery = order.picking_ids
        delivery.move_ids.move_line_ids.unlink()
        delivery.move_ids.write(
            {
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "lot_id": self.env["stock.lot"].search([("name", "=", serial)]).id,
                            "quantity": 1,
                            "location_id": self.stock_location.id,
                            "location_dest_id": self.customer_location.id,
                        }
                    )
                    for serial in serials
                ],
                "picked": True,
            }
        )
        delivery.button_validate()
        if invoiced:
            order._create_invoices().action_post()
        return order

    def _rma_for(self, order, product, serials, remedy="refund"):
        """An RMA of ``order`` for these serials of ``product``, with the requested remedy, authorized."""
        rma = self._create_rma([(product, serial) for serial in serials], sale_order_id=order.id)
        rma.line_ids.remedy_requested = remedy
        rma.with_user(self.rma_manager).action_authorize()
        return rma

    def _received_and_inspected(self, rma):
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        return self._inspect(rma.line_ids)

    def _confirm(self, lines, remedy):
        wizard = Form(
            self.env["rma.remedy.wizard"]
            .with_user(self.rma_manager)
            .with_context(active_model="rma.line", active_ids=lines.ids)
        )
        wizard.remedy = remedy
        wizard.save().action_confirm()

    def _unit_quants(self, line):
        """{location: quantity} of the unit's serial in the company's locations, where it is not zero (the
        partners' locations hold the other side of each quant move)."""
        quants = self.env["stock.quant"].search(
            [
                ("lot_id", "=", line.lot_id.id),
                ("quantity", "!=", 0),
                ("location_id.usage", "not in", ("supplier", "customer")),
            ]
        )
        return {quant.location_id: quant.quantity for quant in quants}

    def _disposition_lines(self, line):
        """The unit's journal items after its receipt, addon's and Odoo's, sorted for assertRecordValues."""
        return line.account_move_line_ids.filtered(lambda aml: "RECEIPT" not in aml.name).sorted(
            lambda aml: (aml.move_id.id, aml.account_id.code, -aml.debit)
        )
