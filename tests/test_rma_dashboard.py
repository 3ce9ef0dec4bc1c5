import json
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config, file_open

from odoo.addons.spreadsheet.utils.validate_data import fields_in_spreadsheet, menus_xml_ids_in_spreadsheet

from .common import RmaTourMixin, load_tool
from .common_disposition import RmaDispositionCommon


def _load(file_name):
    with file_open(f"rma_recovery/data/files/{file_name}") as file:
        return json.load(file)


@tagged("post_install", "-at_install")
class TestRmaDashboard(RmaDispositionCommon):
    """The Returns dashboard of Odoo's Dashboards app: its data sources exist and give the KPIs' figures."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("rma_recovery.spreadsheet_dashboard_returns")
        cls.data = _load("returns_dashboard.json")

    def _errors(self, data):
        """What Odoo's own check refuses in a dashboard: unknown models, fields and menus."""
        errors = []
        for model, chains in fields_in_spreadsheet(data).items():
            if model not in self.env:
                errors.append(model)
                continue
            for chain in chains:
                field_model = model
                for name in chain.split("."):
                    field = self.env[field_model]._fields.get(name)
                    if not field:
                        errors.append(f"{field_model}.{name}")
                        break
                    field_model = field.comodel_name or field_model
        for xml_id in menus_xml_ids_in_spreadsheet(data):
            menu = self.env.ref(xml_id, raise_if_not_found=False)
            if not menu or not menu.action:
                errors.append(xml_id)
        return errors

    def test_files_are_the_builder_output(self):
        builder = load_tool("build_returns_dashboard.py")
        for file_name, sample in builder.OUTPUTS.items():
            self.assertEqual(_load(file_name), json.loads(builder.dump(builder.build(sample))), file_name)

    def test_data_sources_exist(self):
        self.assertEqual(self._errors(self.data), [])
        self.assertEqual(self._errors(_load("returns_sample_dashboard.json")), [])
        # The check can fail: a renamed field or menu is reported.
        broken = json.loads(json.dumps(self.data))
        broken["pivots"]["1"]["measures"][0]["fieldName"] = "qty_sent"
        broken["chartOdooMenusReferences"]["rma-kpi-return-rate"] = "rma_recovery.no_such_menu"
        self.assertEqual(self._errors(broken), ["rma.kpi.return.rate.qty_sent", "rma_recovery.no_such_menu"])
        # Odoo's constraint on the record, as it runs when tests are enabled.
        with patch.dict(config.options, {"test_enable": True}):
            self.dashboard._check_spreadsheet_data()
            with self.assertRaises(ValidationError):
                self.dashboard.copy().spreadsheet_data = json.dumps(broken)
        self.assertEqual(json.loads(self.dashboard.spreadsheet_data), self.data)
        # Every pivot reads as a manager, with its measures' aggregators and its row groups.
        for pivot in self.data["pivots"].values():
            measures = [f"{m['fieldName']}:{m.get('aggregator', 'sum')}" for m in pivot["measures"]]
            rows = [":".join(filter(None, (row["fieldName"], row.get("granularity")))) for row in pivot["rows"]]
            self.env[pivot["model"]].with_user(self.rma_manager)._read_group(pivot["domain"], rows, measures)
        # Each "previous" pivot is its "current" twin shifted one period back.
        by_name = {pivot["name"]: pivot for pivot in self.data["pivots"].values()}
        period = self.data["globalFilters"][0]["id"]
        for name, current in by_name.items():
            if name.endswith(" - current"):
                previous = by_name[name.replace(" - current", " - previous")]
                self.assertEqual(previous["fieldMatching"][period]["offset"], -1)
                self.assertEqual(
                    {key: previous[key] for key in ("model", "domain", "measures")},
                    {key: current[key] for key in ("model", "domain", "measures")},
                )

    def _pivot_totals(self, pivot_id, start, end):
        """A pivot's totals for a period, as the dashboard asks them (its domain and the period filter)."""
        pivot = self.data["pivots"][pivot_id]
        date_field = pivot["fieldMatching"][self.data["globalFilters"][0]["id"]]["chain"]
        measures = [m["fieldName"] for m in pivot["measures"]]
        values = (
            self.env[pivot["model"]]
            .with_user(self.rma_manager)
            ._read_group(
                pivot["domain"] + [(date_field, ">=", start), (date_field, "<", end)],
                [],
                [f"{m['fieldName']}:{m.get('aggregator', 'sum')}" for m in pivot["measures"]],
            )[0]
        )
        return dict(zip(measures, values, strict=True))

    def test_figures_are_the_kpis(self):
        product = self._new_product("fifo")
        rts, ref = self._inspected_units(product, ["DSH-1", "DSH-2"], price=400.0)
        self._purchase(product, ["DSH-3", "DSH-4", "DSH-5"], 400.0)
        self._deliver(self.other_customer, product, ["DSH-3", "DSH-4", "DSH-5"], from_stock=True)
        self._dispose(rts, self.code["RTS"])
        self._dispose(ref, self.code["REF"], net_realizable_value=300.0, work_cost=20.0)
        self.env["stock.quant"].with_context(inventory_mode=True).create(
            {"product_id": self.cable.id, "location_id": self.quarantine.id, "inventory_quantity": 4.0}
        ).action_apply_inventory()

        today = fields.Date.today()
        summary = self.env["rma.kpi.unit"]._kpi_summary(self.company, today, today)
        start = fields.Datetime.to_datetime(today)
        end = start + timedelta(days=1)
        rate, recovery, turnaround, accuracy = (self._pivot_totals(pivot, start, end) for pivot in "1357")
        # Data!B2, B5, B8 and B9 of the dashboard.
        self.assertAlmostEqual(rate["qty_returned"] / rate["qty_shipped"], summary["return_rate"] / 100)
        self.assertAlmostEqual(summary["return_rate"], 100.0 * 2 / 5)
        self.assertAlmostEqual(recovery["recovered_value"] / recovery["original_cost"], summary["recovery_pct"] / 100)
        self.assertAlmostEqual(summary["recovery_pct"], 100.0 * (400.0 + 280.0) / 800.0)
        self.assertAlmostEqual(turnaround["hours_total"] or 0.0, summary["turnaround"]["hours_total"]["average"] or 0.0)
        self.assertAlmostEqual(accuracy["quantity_delta"], summary["count_delta"])
        self.assertAlmostEqual(summary["count_delta"], 4.0)

    def test_for_returns_managers(self):
        Dashboard = self.env["spreadsheet.dashboard"]
        self.assertIn(self.dashboard, Dashboard.with_user(self.rma_manager).search([]))
        self.assertNotIn(self.dashboard, Dashboard.with_user(self.rma_user).search([]))
        self.assertEqual(
            self.dashboard.dashboard_group_id,
            self.env.ref("spreadsheet_dashboard.spreadsheet_dashboard_group_logistics"),
        )


@tagged("post_install", "-at_install")
class TestRmaDashboardHttp(RmaTourMixin, HttpCase):
    """The dashboard as Odoo serves it: the sample while the company has no RMA unit, then the real one."""

    # Tall enough for the whole dashboard: o-spreadsheet renders (and makes clickable) the visible cells only.
    browser_size = "1366x2000"

    def _manager(self, login, company):
        return new_test_user(
            self.env,
            login=login,
            groups="rma_recovery.group_rma_manager",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    def test_sample_until_the_first_unit(self):
        company = self.env["res.company"].create({"name": "Dashboard Co"})
        self._manager("dash_manager", company)
        dashboard = self.env.ref("rma_recovery.spreadsheet_dashboard_returns")
        self.authenticate("dash_manager", "dash_manager")
        self.opener.cookies["cids"] = str(company.id)
        url = f"/spreadsheet/dashboard/data/{dashboard.id}"

        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json().get("is_sample"))
        self.assertEqual(response.json()["snapshot"], _load("returns_sample_dashboard.json"))

        customer = self.env["res.partner"].create({"name": "Dashboard Customer", "company_id": company.id})
        product = self.env["product.product"].create(
            {"name": "Dashboard Laptop", "type": "consu", "tracking": "serial"}
        )
        reason = (
            self.env["rma.reason"]
            .with_company(company)
            .create({"name": "Dashboard reason", "code": "DSHR", "is_proof_required": False})
        )
        self.env["rma.order"].with_company(company).create(
            {
                "partner_id": customer.id,
                "reason_id": reason.id,
                "line_ids": [Command.create({"product_id": product.id, "serial_number": "DSH-SN-1"})],
            }
        )
        response = self.url_open(url)
        self.assertFalse(response.json().get("is_sample"))
        self.assertEqual(response.json()["snapshot"]["pivots"].keys(), _load("returns_dashboard.json")["pivots"].keys())

    def test_manager_opens_the_returns_dashboard(self):
        env = self.env
        company = env.ref("base.main_company")
        customer = env["res.partner"].create({"name": "Dashboard Tour Customer", "is_company": True})
        reason = env["rma.reason"].create({"name": "Dashboard tour reason", "code": "DSHT", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Dashboard Tour Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        self._deliver(customer, laptop, ["DSH-TOUR-0", "DSH-TOUR-1"])
        self._authorized_rma(customer, reason, laptop, ["DSH-TOUR-0"])
        self._manager("dash_tour_manager", company)

        self.start_tour(
            "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action",
            "rma_recovery_dashboard_tour",
            login="dash_tour_manager",
        )
