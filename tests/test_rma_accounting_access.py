from ast import literal_eval

from odoo.tests import HttpCase, tagged

from .common_disposition import RmaDispositionCommon

ACCOUNTING_ROLES = {
    # Community's Invoicing app
    "billing": "account.group_account_invoice",
    "billing_admin": "account.group_account_manager",
    # Accounting, where it is installed
    "auditor": "account.group_account_readonly",
    "accountant": "account.group_account_user",
}


class RmaAccountingAccessCommon(RmaDispositionCommon):
    """Units disposed with their journal entries, and one user per accounting role, none of them in Returns."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accounting_users = {
            role: cls._new_user(f"rma_{role}", f"base.group_user,{group}") for role, group in ACCOUNTING_ROLES.items()
        }

    def _disposed_unit(self, serial):
        unit = self._inspected_units(self._new_product(), [serial])
        self._dispose(unit, self.code["PH"], recovery_value=35.0)
        self.assertTrue(unit.account_move_line_ids)
        return unit


@tagged("post_install", "-at_install")
class TestRmaAccountingAccess(RmaAccountingAccessCommon):
    """RMA Entries and an RMA's Journal Items are reachable by Community's Invoicing roles and by accountants,
    read-only."""

    def _visible_rma_entries_menus(self, user):
        action = self.env.ref("rma_recovery.account_move_line_action_rma")
        menus = self.env["ir.ui.menu"].search([("action", "=", f"{action._name},{action.id}")])
        return menus.with_user(user)._filter_visible_menus()

    def _menu_roots(self, menus):
        roots = set()
        for menu in menus:
            while menu.parent_id:
                menu = menu.parent_id
            roots.add(menu)
        return roots

    def _read_form(self, record, user):
        """What the web client reads to show ``record``'s form to ``user``: the form's fields (those the user's
        groups keep in it) and the fields of its lists."""
        self.env.invalidate_all()  # computed as the user, not from what the test's superuser left in the cache
        record = record.with_user(user)
        models = record.get_views([(False, "form")])["models"]
        fields = models[record._name]["fields"]
        record.read(list(fields))
        for name, field in fields.items():
            if field["type"] in ("one2many", "many2many") and field["relation"] in models:
                record[name].read(list(models[field["relation"]]["fields"]))
        return record.get_views([(False, "form")])["views"]["form"]["arch"]

    def test_rma_entries_menu_in_invoicing_for_every_accounting_role(self):
        invoicing = self.env.ref("account.menu_finance")
        for role, user in self.accounting_users.items():
            with self.subTest(role=role):
                menus = self._visible_rma_entries_menus(user)
                self.assertIn(invoicing, self._menu_roots(menus), f"{role} finds RMA Entries in Invoicing")
        # A returns manager keeping the books finds them in Inventory's Returns reporting too; a returns manager
        # without accounting rights does not see the menu.
        self.rma_manager.group_ids |= self.env.ref("account.group_account_invoice")
        self.assertIn(
            self.env.ref("stock.menu_stock_root"), self._menu_roots(self._visible_rma_entries_menus(self.rma_manager))
        )
        self.assertFalse(self._visible_rma_entries_menus(self.rma_user))

    def test_billing_roles_list_the_entries_with_rma_serial_and_code(self):
        unit = self._disposed_unit("ACC-0001")
        action = self.env.ref("rma_recovery.account_move_line_action_rma")
        for role, user in self.accounting_users.items():
            with self.subTest(role=role):
                items = self.env["account.move.line"].with_user(user).search(literal_eval(action.domain))
                self.assertEqual(items, unit.account_move_line_ids)
                rows = items.read(["name", "rma_id", "rma_line_id", "rma_disposition_id"])
                disposition_rows = [row for row in rows if row["rma_disposition_id"]]
                self.assertTrue(disposition_rows)
                for row in disposition_rows:
                    self.assertEqual(row["name"], f"{unit.rma_id.name} ACC-0001 PH")
                    self.assertEqual(row["rma_disposition_id"][1], self.code["PH"].display_name)
                    self.assertEqual(row["rma_line_id"][0], unit.id)

    def test_journal_items_smart_button_for_every_accounting_role(self):
        unit = self._disposed_unit("ACC-0101")
        rma = unit.rma_id
        for role, user in self.accounting_users.items():
            with self.subTest(role=role):
                arch = self._read_form(rma, user)
                self.assertIn('name="action_view_journal_items"', arch)
                self.assertEqual(rma.with_user(user).journal_item_count, len(unit.account_move_line_ids))
                action = rma.with_user(user).action_view_journal_items()
                items = self.env["account.move.line"].with_user(user).search(action["domain"])
                self.assertEqual(items, unit.account_move_line_ids)

    def test_an_entry_opens_its_unit_read_only(self):
        unit = self._disposed_unit("ACC-0201")
        for role, user in self.accounting_users.items():
            with self.subTest(role=role):
                item = unit.account_move_line_ids[:1].with_user(user)
                action = item.action_open_rma_line()
                self.assertEqual((action["res_model"], action["res_id"]), ("rma.line", unit.id))
                arch = self._read_form(unit, user)
                self.assertIn('name="journal_items"', arch, "the unit's Journal Items tab")
                self.assertIn('name="custody_event_ids"', arch, "its chain of custody")
                # Reading is all: no write on the unit, its RMA or its custody chain.
                for records in (unit, unit.rma_id, unit.custody_event_ids, unit.sanitization_ids):
                    for operation in ("write", "create", "unlink"):
                        self.assertFalse(records.with_user(user).has_access(operation), (records, operation))


@tagged("post_install", "-at_install")
class TestRmaAccountingTour(RmaAccountingAccessCommon, HttpCase):
    def test_billing_administrator_finds_the_rma_entries(self):
        unit = self._disposed_unit("ACC-TOUR-0001")
        label = f"{unit.rma_id.name} ACC-TOUR-0001 PH"
        self.assertIn(label, unit.account_move_line_ids.mapped("name"))
        self.start_tour(
            "/odoo",
            "rma_recovery_billing_entries_tour",
            login=self.accounting_users["billing_admin"].login,
        )
