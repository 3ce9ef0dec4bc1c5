import io
import itertools
import json
import os
import subprocess
import sys
import tempfile

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools.pdf import PdfReader

from odoo.addons.rma_recovery.models.rma_custody_event import HASHED_FIELDS, custody_hash

from .common import RmaCommon, load_tool, tool_path

HASHED_NOTE = HASHED_FIELDS.index("note")
VERIFIER = tool_path("verify_custody.py")


@tagged("post_install", "-at_install")
class TestRmaCustodySeal(RmaCommon):
    """Company seals over the per-unit chains: a unit deleted with its whole history, or a chain rewritten
    consistently, is detected; an export verifies with the standalone verifier."""

    def test_seals_cover_changed_chains_and_chain_together(self):
        rma = self._received_rma(["SEAL-0001", "SEAL-0002"])
        seal_model = self.env["rma.custody.seal"]
        first = seal_model._seal(self.company)
        self.assertEqual(first.head_count, 2)
        heads = json.loads(first.heads)
        self.assertEqual(
            heads, [[line.id, line.custody_sequence, line.custody_hash] for line in rma.line_ids.sorted("id")]
        )
        self.assertFalse(seal_model._seal(self.company), "nothing changed since")
        self.env["rma.custody.event"].sudo().create({"line_id": rma.line_ids[0].id, "event_type": "scan"})
        second = seal_model._seal(self.company)
        self.assertRecordValues(
            second, [{"sequence": first.sequence + 1, "head_count": 1, "previous_hash": first.hash}]
        )
        self.assertTrue(self._check()["ok"])
        with self.assertRaises(UserError):
            first.sudo().write({"heads": "[]"})
        with self.assertRaises(UserError):
            first.sudo().unlink()
        with self.assertRaises(AccessError):
            seal_model.with_user(self.rma_user).action_seal_now()
        self.assertEqual(seal_model.with_user(self.rma_manager).action_seal_now()["params"]["type"], "success")

    def test_seal_detects_a_unit_deleted_with_its_whole_history(self):
        rma = self._received_rma(["SEAL-0101", "SEAL-0102"])
        self.env["rma.custody.seal"]._seal(self.company)
        gone = rma.line_ids[1]
        self._sql("DELETE FROM rma_custody_event WHERE line_id = %s", gone.id)
        self._sql("UPDATE stock_move SET rma_line_id = NULL WHERE rma_line_id = %s", gone.id)
        self._sql("DELETE FROM rma_line WHERE id = %s", gone.id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], gone.id)
        self.assertIn("deleted or rewritten", result["message"])

    def test_seal_detects_a_chain_rewritten_consistently(self):
        rma = self._received_rma(["SEAL-0201"])
        line = rma.line_ids
        self.env["rma.custody.event"].sudo().create({"line_id": line.id, "event_type": "scan", "note": "at dock"})
        self.env["rma.custody.seal"]._seal(self.company)
        last = line.custody_event_ids.sorted("sequence")[-1]
        # Rewrite the last event and recompute its hash and the unit's head: the unit's chain alone still verifies.
        values = dict(self.env["rma.custody.event"].browse(last.id).read()[0])
        values.update(note="somewhere else", line_id=line.id, rma_id=rma.id, company_id=self.company.id)
        for name in ("product_id", "lot_id", "location_id", "location_dest_id", "user_id"):
            values[name] = values[name][0] if values[name] else None
        new_hash = custody_hash(last.previous_hash, self.env["rma.custody.event"]._hash_values(values))
        self._sql("UPDATE rma_custody_event SET note = 'somewhere else', hash = %s WHERE id = %s", new_hash, last.id)
        self._sql("UPDATE rma_line SET custody_hash = %s WHERE id = %s", new_hash, line.id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], line.id)
        self.assertTrue(result["broken_seal_id"])

    def test_export_and_standalone_verifier(self):
        rma = self._received_rma(["SEAL-0301", "SEAL-0302"])
        self.env["rma.custody.seal"]._seal(self.company)
        self.env["rma.custody.event"].sudo().create({"line_id": rma.line_ids[0].id, "event_type": "scan"})
        export = rma.line_ids.custody_event_ids._export_jsonl()
        lines = export.splitlines()
        self.assertEqual(json.loads(lines[0])["format"], "rma_recovery.custody")
        verifier = load_tool("verify_custody.py")
        ok, message, count = verifier.verify(lines)
        self.assertTrue(ok, message)
        self.assertEqual(count, len(rma.line_ids.custody_event_ids))

        tampered = list(lines)
        index = next(i for i, text in enumerate(tampered) if '"type":"event"' in text)
        record = json.loads(tampered[index])
        record["values"][HASHED_NOTE] = "moved by someone else"
        tampered[index] = json.dumps(record)
        ok, message, _count = verifier.verify(tampered)
        self.assertFalse(ok)
        self.assertIn(f"line {index + 1}: event {record['id']}", message)

        # Two events of a unit swapped (each unchanged): the positions no longer follow each other.
        unit_index = HASHED_FIELDS.index("line_id")
        events = [(i, json.loads(text)["values"]) for i, text in enumerate(lines) if '"type":"event"' in text]
        first, second = next(
            (a, b)
            for (a, values_a), (b, values_b) in itertools.pairwise(events)
            if values_a[unit_index] == values_b[unit_index]
        )
        swapped = list(lines)
        swapped[first], swapped[second] = lines[second], lines[first]
        ok, message, _count = verifier.verify(swapped)
        self.assertFalse(ok)
        unit = json.loads(lines[first])["values"][unit_index]
        self.assertIn(f"unit {unit} jumps from position", message)

        # The verifier is standalone: plain Python on the exported file, no Odoo.
        with tempfile.TemporaryDirectory() as directory:
            good, bad = os.path.join(directory, "good.jsonl"), os.path.join(directory, "bad.jsonl")
            with open(good, "w", encoding="utf-8") as handle:
                handle.write(export)
            with open(bad, "w", encoding="utf-8") as handle:
                handle.write("\n".join(tampered) + "\n")
            clean_env = {"PATH": os.environ.get("PATH", "")}
            run = subprocess.run([sys.executable, "-I", VERIFIER, good], capture_output=True, text=True, env=clean_env)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertTrue(run.stdout.startswith("OK"))
            run = subprocess.run([sys.executable, "-I", VERIFIER, bad], capture_output=True, text=True, env=clean_env)
            self.assertEqual(run.returncode, 1)
            self.assertIn("was modified", run.stdout)
        action = rma.line_ids.action_export_custody()
        self.assertEqual(action["type"], "ir.actions.act_url")

    def test_chain_of_custody_pdf(self):
        self.laptop.rma_origin_country_id = self.env.ref("base.us")
        rma = self._received_rma(["SEAL-0401"])
        line = rma.line_ids
        report = self.env.ref("rma_recovery.action_report_unit_custody")
        html = report._render_qweb_html(report.report_name, line.ids)[0].decode()
        self.assertIn("SEAL-0401", html)
        self.assertIn('alt="Barcode SEAL-0401"', html)
        self.assertIn("United States", html)
        self.assertIn("Not sealed yet", html)
        seal = self.env["rma.custody.seal"]._seal(self.company)
        self.assertEqual(line._custody_covering_seal(), seal)
        html = report._render_qweb_html(report.report_name, line.ids)[0].decode()
        self.assertIn(seal.hash, html)
        for event in line.custody_event_ids:
            self.assertIn(dict(event._fields["event_type"]._description_selection(self.env))[event.event_type], html)
        pdf, report_type = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, line.ids
        )
        self.assertEqual(report_type, "pdf")
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
        self.assertIn("SEAL-0401", text)
        self.assertIn("United States", text)
        self.assertIn(str(seal.sequence), text)
