from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import RmaCommon


@tagged("post_install", "-at_install")
class TestRmaSecurity(RmaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._deliver(cls.customer, cls.laptop, ["SEC-0001"])
        cls.other_company = cls.env["res.company"].create({"name": "RMA Foreign Company"})
        cls.env.user.company_ids = [Command.link(cls.other_company.id)]
        cls.foreign_reason = cls.env["rma.reason"].create(
            {"name": "Foreign only", "code": "FRGN", "company_id": cls.other_company.id, "is_proof_required": False}
        )
        cls.foreign_rma = (
            cls.env["rma.order"]
            .with_company(cls.other_company)
            .create(
                {
                    "company_id": cls.other_company.id,
                    "partner_id": cls.other_customer.id,
                    "reason_id": cls.foreign_reason.id,
                }
            )
        )

    def test_user_requests_but_cannot_decide(self):
        rma = self._create_rma([(self.laptop, "SEC-0001")], user=self.rma_user)
        self.assertEqual(rma.create_uid, self.rma_user)
        for user in (self.rma_user, self.rma_inspector):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    rma.with_user(user).action_authorize()
                with self.assertRaises(AccessError):
                    rma.with_user(user).action_reject("no")
                with self.assertRaises(AccessError):
                    self.env["rma.reject.wizard"].with_user(user).create({"rma_ids": rma.ids, "reason": "no"})
        self.assertRecordValues(rma, [{"state": "draft", "name": False}])

    def test_user_cannot_override(self):
        rma = self._create_rma([(self.laptop, "SEC-UNKNOWN")], user=self.rma_user)
        with self.assertRaises(AccessError):
            rma.line_ids.with_user(self.rma_user)._action_override("I say so")
        with self.assertRaises(AccessError):
            self.env["rma.override.wizard"].with_user(self.rma_user).create({"rma_ids": rma.ids, "reason": "x"})
        self.assertFalse(rma.line_ids.is_overridden)

    def test_workflow_fields_only_change_through_actions(self):
        """A plain write cannot authorize, override or receive, even for a manager: only the actions can."""
        rma = self._create_rma([(self.laptop, "SEC-UNKNOWN-2")], user=self.rma_user)
        rma.with_user(self.rma_user).customer_reference = "PO-42"
        self.assertEqual(rma.customer_reference, "PO-42", "the request itself stays editable")
        line = rma.line_ids
        for user in (self.rma_user, self.rma_manager):
            with self.subTest(user=user.login):
                for record, values in (
                    (rma, {"state": "authorized"}),
                    (rma, {"name": "RMA/FAKE/00001"}),
                    (line, {"override_reason": "self-approved"}),
                    (line, {"state": "received"}),
                    (line, {"is_substitution": True}),
                ):
                    with self.assertRaises(AccessError):
                        record.with_user(user).write(values)
                with self.assertRaises(AccessError):
                    self.env["rma.line"].with_user(user).create(
                        {"rma_id": rma.id, "product_id": self.cable.id, "override_reason": "self-approved"}
                    )
        self.assertRecordValues(rma, [{"state": "draft", "name": False, "has_flag": True}])
        self.assertFalse(line.is_overridden)

    def test_user_cannot_delete_or_configure(self):
        rma = self._create_rma([(self.laptop, "SEC-0001")], user=self.rma_user)
        with self.assertRaises(AccessError):
            rma.with_user(self.rma_user).unlink()
        with self.assertRaises(AccessError):
            self.env["rma.reason"].with_user(self.rma_user).create({"name": "Mine", "code": "MINE"})
        self.env["rma.reason"].with_user(self.rma_manager).create({"name": "Managed", "code": "MGD"})

    def test_stock_user_without_returns_group_has_no_access(self):
        stock_user = new_test_user(
            self.env,
            login="plain_stock_user",
            groups="stock.group_stock_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.env["rma.order"].with_user(stock_user).search([])

    def test_multi_company_isolation(self):
        rma = self._create_rma([(self.laptop, "SEC-0001")])
        as_user = self.env["rma.order"].with_user(self.rma_manager)
        self.assertEqual(as_user.search([("id", "in", (rma | self.foreign_rma).ids)]), rma)
        with self.assertRaises(AccessError):
            self.foreign_rma.with_user(self.rma_manager).read(["partner_id"])
        reasons = self.env["rma.reason"].with_user(self.rma_manager).search([])
        self.assertIn(self.reason, reasons)
        self.assertIn(self.env.ref("rma_recovery.rma_reason_doa"), reasons, "shared reasons are visible everywhere")
        self.assertNotIn(self.foreign_reason, reasons)
        foreign_lines = (
            self.env["rma.line"].with_user(self.rma_manager).search([("company_id", "=", self.other_company.id)])
        )
        self.assertFalse(foreign_lines)

    def test_reason_of_another_company_is_refused(self):
        from odoo.exceptions import UserError

        with self.assertRaises(UserError):
            self._create_rma([(self.laptop, "SEC-0001")], reason_id=self.foreign_reason.id)
