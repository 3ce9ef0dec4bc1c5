from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.rma_recovery.models import rma_order_notification

from .common import RmaCommon
from .common_disposition import RmaDispositionCommon

COST = 400.0
SALE_PRICE = 900.0


class RmaNotifyMixin(MockEmail):
    """The customer's mails: queued by the steps, sent by the job (``_send_queued_mails``), found among the mails
    created under ``mock_mail_gateway``."""

    @classmethod
    def _setup_notified_customer(cls):
        cls.company.email = "returns@rma-test.example.com"
        cls.customer.email = "buyer@customer-one.example.com"

    def _send_queued_mails(self):
        """Run what the job *Returns: send the customers' mails* runs (the steps only queue the mails)."""
        self.env["rma.order.notification"]._cron_send()

    def _customer_mails(self, rma):
        return self._new_mails.filtered(
            lambda mail: mail.model == "rma.order" and mail.res_id == rma.id and self.customer in mail.recipient_ids
        )

    def _assert_one_mail(self, rma, subject_part, body_parts=()):
        mails = self._customer_mails(rma)
        self.assertEqual(len(mails), 1, f"one mail to the customer for {rma.display_name}")
        self.assertIn(subject_part, mails.subject)
        for part in body_parts:
            self.assertIn(part, mails.body_html)
        # Logged in the RMA's chatter, as a message the customer sees.
        self.assertEqual(mails.mail_message_id.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn(mails.mail_message_id, rma.message_ids)
        # And in the customer's conversation on the portal page.
        self.assertIn(mails.mail_message_id, rma.website_message_ids)
        return mails


@tagged("post_install", "-at_install")
class TestRmaNotify(RmaCommon, RmaNotifyMixin):
    """Authorization, receipt, inspection and rejection mails: one per RMA and step, in the customer's language, with
    the label and the portal link, switchable per company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_notified_customer()

    def _delivered_rma(self, serials):
        self._deliver(self.customer, self.laptop, serials)
        return self._create_rma([(self.laptop, serial) for serial in serials])

    def test_authorized_mail_with_label_number_and_portal_link(self):
        rma = self._delivered_rma(["NT-0001", "NT-0002", "NT-0003"])
        with self.mock_mail_gateway():
            rma.with_user(self.rma_manager).action_authorize()
            self._send_queued_mails()
        mail = self._assert_one_mail(
            rma,
            rma.name,
            body_parts=["NT-0001", "NT-0003", f"/my/returns/{rma.id}?access_token={rma.access_token}"],
        )
        self.assertTrue(rma.access_token)
        self.assertEqual(len(mail.attachment_ids), 1)
        # The label's PDF (its HTML under the test runner, as Odoo renders reports in tests).
        self.assertTrue(mail.attachment_ids.name.startswith(f"RMA Label - {rma.name}."))
        self.assertEqual(mail.author_id, self.company.partner_id, "from the company's address")
        self.assertEqual(mail.email_to or self.customer.email, self.customer.email)

    def test_batch_receipt_one_mail_per_rma(self):
        first = self._delivered_rma(["NT-0101", "NT-0102", "NT-0103"])
        second = self._delivered_rma(["NT-0201", "NT-0202"])
        (first | second).action_authorize()
        self._send_queued_mails()
        with self.mock_mail_gateway():
            self.env["stock.picking"]._rma_receive(first.line_ids | second.line_ids, station="DOCK-1")
            self._send_queued_mails()
        self._assert_one_mail(first, "received", body_parts=["NT-0101", "NT-0102", "NT-0103"])
        self._assert_one_mail(second, "received", body_parts=["NT-0201", "NT-0202"])

    def test_parcel_scanned_unit_by_unit_sends_one_mail_at_its_last_unit(self):
        rma = self._delivered_rma(["NT-0301", "NT-0302"])
        rma.action_authorize()
        self._send_queued_mails()
        with self.mock_mail_gateway():
            self._scan(rma.name, "NT-0301", user=self.rma_user)
            self._send_queued_mails()
            self.assertFalse(self._customer_mails(rma), "a unit is still expected")
            self._scan("NT-0302", rma=rma, user=self.rma_user)
            self._send_queued_mails()
        self._assert_one_mail(rma, "received", body_parts=["NT-0301", "NT-0302"])

    def test_inspection_mail_once_every_received_unit_is_inspected_with_the_remedy(self):
        rma = self._delivered_rma(["NT-0401", "NT-0402"])
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        grade = self.env.ref("rma_recovery.rma_grade_a")
        lines = rma.line_ids.with_user(self.rma_inspector)
        lines.action_start_inspection()
        lines.inspection_id.write({"grade_id": grade.id, "functional_result": "pass"})
        self._send_queued_mails()
        with self.mock_mail_gateway():
            lines[0].inspection_id.action_done()
            self._send_queued_mails()
            self.assertFalse(self._customer_mails(rma), "the second unit is still in inspection")
            lines[1].inspection_id.action_done()
            self._send_queued_mails()
        self._assert_one_mail(rma, "inspection", body_parts=["NT-0401", "NT-0402", "Refund"])

    def test_rejected_mail_with_the_reason(self):
        rma = self._delivered_rma(["NT-0501"])
        with self.mock_mail_gateway():
            rma.with_user(self.rma_manager).action_reject("Bought more than two years ago.")
            self._send_queued_mails()
        self._assert_one_mail(
            rma,
            "declined",
            body_parts=["Bought more than two years ago.", f"/my/returns/{rma.id}?access_token={rma.access_token}"],
        )

    def test_switched_off_steps_send_nothing(self):
        self.company.write({"rma_notify_authorized": False, "rma_notify_received": False})
        settings = self.env["res.config.settings"].with_company(self.company).create({})
        self.assertFalse(settings.rma_notify_authorized)
        self.assertTrue(settings.rma_notify_rejected, "on by default")
        rma = self._delivered_rma(["NT-0601"])
        with self.mock_mail_gateway():
            rma.action_authorize()
            self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
            self._send_queued_mails()
        self.assertFalse(self._customer_mails(rma))
        other = self._delivered_rma(["NT-0602"])
        with self.mock_mail_gateway():
            other.action_reject("No proof.")
            self._send_queued_mails()
        self._assert_one_mail(other, "declined")

    def test_mail_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        template = self.env.ref("rma_recovery.rma_mail_template_authorized")
        template.with_context(lang="fr_FR").subject = "{{ object.company_id.name }} : retour {{ object.name }} autorisé"
        rma = self._delivered_rma(["NT-0701"])
        with self.mock_mail_gateway():
            rma.action_authorize()
            self._send_queued_mails()
        mail = self._assert_one_mail(rma, f"retour {rma.name} autorisé")
        self.assertNotIn("is authorized", mail.subject)

    def test_customer_without_email_gets_no_mail_and_nothing_fails(self):
        self.customer.email = False
        rma = self._delivered_rma(["NT-0801"])
        with self.mock_mail_gateway():
            rma.action_authorize()
            self._send_queued_mails()
        self.assertEqual(rma.state, "authorized")
        self.assertFalse(self._customer_mails(rma))


@tagged("post_install", "-at_install")
class TestRmaNotifyJob(RmaCommon, RmaNotifyMixin):
    """The steps only queue the mails; the job renders and sends them later (the label PDFs out of the manager's
    click), one per RMA and step, as the RMA and the company's switches stand when it runs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_notified_customer()
        cls.customer.write({"street": "1 Main Street", "zip": "1000", "city": "Brussels"})
        cls.cron = cls.env.ref("rma_recovery.rma_cron_notify")
        cls.queue = cls.env["rma.order.notification"]

    def _delivered_rmas(self, prefix, count):
        serials = [f"{prefix}-{index:04d}" for index in range(count)]
        self._deliver(self.customer, self.laptop, serials)
        return self.env["rma.order"].union(*(self._create_rma([(self.laptop, serial)]) for serial in serials))

    def _pending(self, rmas):
        return self.queue.search([("rma_id", "in", rmas.ids)])

    def test_authorizing_renders_nothing_then_the_job_sends_one_mail_per_rma_with_its_label(self):
        rmas = self._delivered_rmas("NJ-00", 4)
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        report_model = type(self.env["ir.actions.report"])
        render_qweb_pdf = report_model._render_qweb_pdf
        renders = []

        def counted_render(report, report_ref, *args, **kwargs):
            renders.append(report_ref)
            return render_qweb_pdf(report, report_ref, *args, **kwargs)

        with self.mock_mail_gateway(), patch.object(report_model, "_render_qweb_pdf", counted_render):
            rmas.with_user(self.rma_manager).action_authorize()
            self.assertFalse(renders, "no label rendered in the manager's click")
            self.assertFalse(self._new_mails, "nothing sent before the job runs")
            self.assertFalse(
                rmas.message_ids.filtered(lambda message: message.subtype_id == self.env.ref("mail.mt_comment"))
            )
            self.assertRecordValues(
                self._pending(rmas).sorted(lambda row: row.rma_id.id),
                [{"rma_id": rma.id, "step": "authorized", "company_id": self.company.id} for rma in rmas.sorted("id")],
            )
            self.assertEqual(
                len(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]) - triggers),
                1,
                "the job is woken once for the whole batch",
            )
            self._send_queued_mails()
            self.assertEqual(len(renders), 4, "one label per RMA, rendered by the job")
        for rma in rmas:
            mail = self._assert_one_mail(rma, rma.name, body_parts=[rma.line_ids.serial_number])
            self.assertEqual(len(mail.attachment_ids), 1)
            self.assertTrue(mail.attachment_ids.name.startswith(f"RMA Label - {rma.name}."))
            self.assertEqual(mail.author_id, self.company.partner_id, "from the company's address")
        self.assertFalse(self._pending(rmas), "sent rows are dropped")
        with self.mock_mail_gateway():
            self._send_queued_mails()
        self.assertFalse(self._new_mails, "a second run sends nothing again")

    def test_units_received_before_the_job_runs_stay_in_the_authorized_mail(self):
        self._deliver(self.customer, self.laptop, ["NJ-0101", "NJ-0102"])
        rma = self._create_rma([(self.laptop, "NJ-0101"), (self.laptop, "NJ-0102")])
        with self.mock_mail_gateway():
            rma.action_authorize()
            self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
            self._send_queued_mails()
        mails = self._customer_mails(rma)
        self.assertEqual(len(mails), 2, "authorized, then received")
        authorized = mails.filtered(lambda mail: "is authorized" in mail.subject)
        self.assertIn("NJ-0101", authorized.body_html)
        self.assertIn("NJ-0102", authorized.body_html)

    def test_every_step_can_be_queued(self):
        steps = dict(self.queue._fields["step"].selection)
        self.assertEqual(set(steps), set(rma_order_notification.NOTIFY_TEMPLATES))

    def test_one_pending_mail_per_rma_and_step(self):
        rmas = self._delivered_rmas("NJ-02", 2)
        rmas.action_authorize()
        self._send_queued_mails()
        rmas._rma_notify("received")
        rmas[0]._rma_notify("received", rmas[0].line_ids)
        pending = self._pending(rmas)
        self.assertEqual(sorted(pending.mapped("step")), ["received", "received"])
        self.assertEqual(pending.rma_id, rmas)
        with self.mock_mail_gateway():
            self._send_queued_mails()
        for rma in rmas:
            self._assert_one_mail(rma, "received")

    def test_switched_off_before_the_job_runs_sends_nothing(self):
        rma = self._delivered_rmas("NJ-03", 1)
        rma.action_authorize()
        self.assertTrue(self._pending(rma))
        self.company.rma_notify_authorized = False
        with self.mock_mail_gateway():
            self._send_queued_mails()
        self.assertFalse(self._customer_mails(rma))
        self.assertFalse(self._pending(rma), "dropped, not kept for later")

    def test_cancelled_or_deleted_before_the_job_runs_sends_nothing(self):
        cancelled, deleted = self._delivered_rmas("NJ-04", 2)
        cancelled.action_authorize()
        cancelled.with_user(self.rma_manager).action_cancel()
        # A draft RMA cannot reach a step; its row is made by hand to show a deleted RMA takes its row along.
        row = self.queue._queue(deleted, "rejected")
        deleted.unlink()
        self.assertFalse(row.exists(), "deleted with its RMA")
        with self.mock_mail_gateway():
            row._send()  # the job had read the row before the RMA went: nothing fails
            self._send_queued_mails()
        self.assertFalse(self._new_mails.filtered(lambda mail: mail.model == "rma.order"))
        self.assertFalse(self._pending(cancelled))

    def test_the_cron_commits_each_batch_and_a_failing_rma_waits_for_the_next_run(self):
        rmas = self._delivered_rmas("NJ-05", 5)
        rmas.action_authorize()
        failing = rmas[1]
        post = type(self.env["rma.order"]).message_post_with_source
        progress = []
        commit_progress = type(self.env["ir.cron"])._commit_progress

        def post_unless_failing(records, *args, **kwargs):
            if failing in records:
                raise ValueError("the mail server said no")
            return post(records, *args, **kwargs)

        def record_progress(cron, processed=0, **kwargs):
            progress.append((processed, kwargs.get("remaining")))
            return commit_progress(cron, processed, **kwargs)

        with (
            patch.object(rma_order_notification, "BATCH_SIZE", 2),
            patch.object(type(self.env["rma.order"]), "message_post_with_source", post_unless_failing),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", record_progress),
            self.assertLogs("odoo.addons.rma_recovery.models.rma_order_notification", "ERROR"),
            self.enter_registry_test_mode(),  # the job's cursor is the test's
        ):
            self.assertIs(self.cron.method_direct_trigger(), True, "the job itself does not fail")
        self.env.invalidate_all()
        self.assertEqual(progress, [(1, 3), (2, 1), (1, 0)], "a commit per batch of two rows; the failing row waits")
        self.assertEqual(self._pending(rmas).rma_id, failing)
        comment = self.env.ref("mail.mt_comment")
        for rma in rmas - failing:
            self.assertEqual(len(rma.message_ids.filtered(lambda message: message.subtype_id == comment)), 1)
        with self.enter_registry_test_mode():
            self.assertIs(self.cron.method_direct_trigger(), True)
        self.env.invalidate_all()
        self.assertFalse(self._pending(rmas), "sent at the next run")
        self.assertEqual(len(failing.message_ids.filtered(lambda message: message.subtype_id == comment)), 1)


@tagged("post_install", "-at_install")
class TestRmaNotifyRemedy(RmaDispositionCommon, RmaNotifyMixin):
    """The remedy done (credit note posted by an accountant, repaired unit shipped back) and the RMA closed: one mail
    each, sent whoever validates the document."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_notified_customer()
        cls.accountant = cls._new_user("rma_notify_accountant", "account.group_account_invoice")

    def test_credit_note_posted_then_closed(self):
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["NR-0001", "NR-0002"], sale_price=SALE_PRICE)
        rma = self._rma_for(order, product, ["NR-0001", "NR-0002"])
        lines = self._received_and_inspected(rma)
        self._confirm(lines, "refund")
        rma.with_user(self.rma_user).action_create_credit_note()
        refund = lines.credit_note_id
        self.assertEqual(len(refund), 1)
        self._dispose(lines, self.code["RTS"])
        self.assertEqual(rma.state, "in_progress", "closed units, credit note to post")
        self._send_queued_mails()
        with self.mock_mail_gateway():
            refund.with_user(self.accountant).action_post()
            self._send_queued_mails()
        self.assertEqual(rma.state, "done")
        mails = self._customer_mails(rma)
        self.assertEqual(len(mails), 2, "remedy done, then closed")
        remedy_mail = mails.filtered(lambda mail: "remedy done" in mail.subject)
        self.assertIn(refund.name, remedy_mail.body_html)
        self.assertEqual(len(mails.filtered(lambda mail: "is closed" in mail.subject)), 1)
        self.assertEqual(remedy_mail.author_id, self.company.partner_id, "whoever posts, from the company")

    def test_repaired_unit_shipped_back_then_closed(self):
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["NR-0101"], sale_price=SALE_PRICE)
        rma = self._rma_for(order, product, ["NR-0101"], remedy="repair_return")
        line = self._received_and_inspected(rma)
        self._confirm(line, "repair_return")
        self._dispose(line, self.code["REP"], repair_level="l1", net_realizable_value=450.0)
        line.repair_id.action_repair_start()
        line.repair_id.action_repair_end()
        rma.with_user(self.rma_user).action_ship_back()
        picking = rma.remedy_picking_ids
        # Validated by a warehouse clerk who has no access to the Returns app.
        clerk = self._new_user("rma_notify_clerk", "stock.group_stock_user")
        self._send_queued_mails()
        with self.mock_mail_gateway():
            picking.move_ids.picked = True
            picking.with_user(clerk).button_validate()
            self._send_queued_mails()
        self.assertEqual(rma.state, "done")
        mails = self._customer_mails(rma)
        self.assertEqual(len(mails), 2, "remedy done, then closed")
        self.assertIn(picking.name, mails.filtered(lambda mail: "remedy done" in mail.subject).body_html)
        self.assertEqual(len(mails.filtered(lambda mail: "is closed" in mail.subject)), 1)
