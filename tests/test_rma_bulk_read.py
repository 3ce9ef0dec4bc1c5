from unittest.mock import patch

from epcpy.epc_schemes.sgtin import SGTIN, SGTINFilterValue
from epcpy.epc_schemes.sscc import SSCC, SSCCFilterValue

from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import file_open

from odoo.addons.rma_recovery.models.rma_demo_dock import PALLETS, pallet_epcs
from odoo.addons.rma_recovery.models.rma_read_parser import (
    EPC,
    EPC_NOT_SGTIN,
    GS1,
    GS1_NO_SERIAL,
    GS1_UNREADABLE,
    INVALID,
    PLAIN,
    gtin_candidates,
    parse_code,
    sgtin_hex,
    split_read,
)

from .common import RmaCommon, RmaTourMixin
from .common_rpc import RmaRpcCommon

LAPTOP_GTIN, PHONE_GTIN, TABLET_UPC = "4012345000016", "4012345000023", "012345678905"


def epc_of(gtin, serial, scheme=SGTIN.BinaryCodingScheme.SGTIN_198):
    """An RFID tag's EPC hex as epcpy encodes it (the tag printer's side)."""
    return SGTIN.from_gtin_plus_serial(gtin, serial, 7).hex(
        binary_coding_scheme=scheme, filter_value=SGTINFilterValue.POS_ITEM
    )


@tagged("post_install", "-at_install")
class TestRmaReadParser(TransactionCase):
    """What scanners and RFID readers send, read into GTIN + serial by epcpy and biip, else a plain code."""

    def test_sgtin_96_and_198_epcs(self):
        numeric = epc_of("0" + LAPTOP_GTIN, "12345", SGTIN.BinaryCodingScheme.SGTIN_96)
        self.assertEqual(len(numeric), 24)
        for code in (numeric, numeric.lower(), f"  {numeric}\t"):
            read = parse_code(code)
            self.assertEqual((read.kind, read.gtin, read.serial), (EPC, "04012345000016", "12345"))
        # SGTIN-198 carries alphanumeric serials (URI escapes undone).
        alnum = epc_of("0" + LAPTOP_GTIN, "PB14-A%2F7")
        read = parse_code(alnum)
        self.assertEqual((read.kind, read.gtin, read.serial), (EPC, "04012345000016", "PB14-A/7"))
        self.assertEqual(sgtin_hex(LAPTOP_GTIN, "PB14-A/7"), alnum.upper())
        self.assertEqual(sgtin_hex(LAPTOP_GTIN, "12345"), numeric.upper())
        # The EPC URIs a reader may send instead.
        self.assertEqual(parse_code("urn:epc:id:sgtin:4012345.000001.400").serial, "400")
        self.assertEqual(parse_code("urn:epc:tag:sgtin-96:3.4012345.000001.400").gtin, "04012345000016")

    def test_other_epcs_and_hex_serials(self):
        sscc = SSCC("urn:epc:id:sscc:4012345.0000000001").hex(
            binary_coding_scheme=SSCC.BinaryCodingScheme.SSCC_96, filter_value=SSCCFilterValue.ALL_OTHERS
        )
        read = parse_code(sscc)
        self.assertEqual((read.kind, read.error, read.detail), (INVALID, EPC_NOT_SGTIN, "SSCC"))
        # 24 hexadecimal digits without an EPC header: a serial like any other.
        self.assertEqual(parse_code("ABCDEF0123456789ABCDEF01").kind, PLAIN)

    def test_gs1_barcodes(self):
        imei = self._imei()
        for code in (
            f"(01)0{PHONE_GTIN}(21){imei}",
            f"(01)0{PHONE_GTIN} (21){imei}",
            f"]d2010{PHONE_GTIN}21{imei}",
            f"]C1010{PHONE_GTIN}21{imei}\x1d10LOT7",
            f"010{PHONE_GTIN}21{imei}",
        ):
            read = parse_code(code)
            self.assertEqual((read.kind, read.gtin, read.serial), (GS1, "04012345000023", imei), code)
            self.assertFalse(read.luhn_failed)
        bad_imei = imei[:-1] + str((int(imei[-1]) + 1) % 10)
        self.assertTrue(parse_code(f"(01)0{PHONE_GTIN}(21){bad_imei}").luhn_failed)
        read = parse_code(f"(01)0{PHONE_GTIN[:-1]}9(21)X1")
        self.assertEqual((read.kind, read.error), (INVALID, GS1_UNREADABLE))
        self.assertIn("check digit", read.detail)
        self.assertEqual(parse_code(f"(01)0{PHONE_GTIN}").error, GS1_NO_SERIAL)

    def test_plain_codes(self):
        for code in ("RMA/2026/00042", "PB14-00001", "356938035643809", "0104012345000016"):
            read = parse_code(code)
            self.assertEqual((read.kind, read.code), (PLAIN, code))
        self.assertTrue(parse_code("356938035643808").luhn_failed)
        self.assertFalse(parse_code("356938035643809").luhn_failed)

    def test_split_and_gtin_forms(self):
        text = f"A1, b2;c3\r\n(01)0{LAPTOP_GTIN} (21)X9\n\n  d4 e5\tA1\n"
        self.assertEqual(split_read(text), ["A1", "b2", "c3", f"(01)0{LAPTOP_GTIN}(21)X9", "d4", "e5", "A1"])
        self.assertEqual(gtin_candidates("04012345000016"), ["04012345000016", LAPTOP_GTIN])
        self.assertEqual(gtin_candidates("00012345678905"), ["00012345678905", "0012345678905", TABLET_UPC])

    def _imei(self):
        return RmaCommon._imei(7)


@tagged("post_install", "-at_install")
class TestRmaBulkRead(RmaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.quarantine = cls.warehouse.rma_quarantine_location_id
        cls.laptop.barcode = LAPTOP_GTIN
        cls.phone.barcode = PHONE_GTIN
        cls.tablet = cls._create_product("Test Tablet", tracking="serial", barcode=TABLET_UPC)
        cls.scan = cls.env["rma.scan"].with_user(cls.rma_user)

    def _rma(self, units, partner=None):
        for product, serials in units.items():
            self._deliver(partner or self.customer, product, serials)
        rma = self._create_rma(
            [(product, serial) for product, serials in units.items() for serial in serials], partner=partner
        )
        rma.action_authorize()
        return rma

    def _unit(self, rma, serial, product=None):
        return rma.line_ids.filtered(
            lambda line: line.serial_number == serial and (not product or line.product_id == product)
        )

    def _quant_location(self, unit):
        return self.env["stock.quant"].search([("lot_id", "=", unit.lot_id.id), ("quantity", ">", 0)]).location_id

    def test_mixed_read_receives_the_accepted_units_and_lists_the_rejects(self):
        imei, bad_imei = self._imei(11), "356938035643808"
        rma = self._rma(
            {
                self.laptop: ["BLK-L1", "BLK-L2", "BLK-L3", "AMB-0001"],
                self.phone: [imei],
                self.tablet: ["AMB-0001", "BLK-T1"],
            }
        )
        other = self._rma({self.laptop: ["BLK-L9"]}, partner=self.other_customer)
        self._scan(rma.name, "BLK-L3", user=self.rma_user)  # received before, by a single scan
        l3_events = self._unit(rma, "BLK-L3").custody_event_ids
        read = [
            sgtin_hex(LAPTOP_GTIN, "BLK-L1"),
            sgtin_hex(LAPTOP_GTIN, "BLK-L1").lower(),  # the portal read the tag twice
            f"(01)0{LAPTOP_GTIN}(21)BLK-L2",
            "blk-l3",  # already received
            sgtin_hex(LAPTOP_GTIN, "BLK-L9"),  # another RMA's unit
            "NEVER-SEEN-9",
            "AMB-0001",  # a laptop and a tablet of the RMA share the serial
            sgtin_hex(TABLET_UPC, "AMB-0001"),  # its tag names the tablet: no ambiguity
            bad_imei,
            f"]d2010{PHONE_GTIN}21{imei}",
            f"(01)0{LAPTOP_GTIN[:-1]}9(21)BLK-L1",  # a wrong check digit
            f"(01)0{LAPTOP_GTIN}(21)BLK-T1",  # the tablet's serial under the laptop's GTIN
            sgtin_hex("4012345000047", "BLK-L1"),  # a GTIN no product carries
            f"(01)0{LAPTOP_GTIN}(21)BLK-L2",  # the same barcode again
        ]
        answer = self.scan.receive_bulk(read, rma_id=rma.id, station="PORTAL-1", read_ref="READ/TEST/1")
        bulk = answer["bulk"]
        self.assertEqual(
            bulk["counts"],
            {
                "done": 4,
                "duplicate": 2,
                "unknown": 3,
                "already": 1,
                "not_on_rma": 1,
                "ambiguous": 1,
                "invalid": 2,
                "refused": 0,
            },
        )
        self.assertEqual(answer["level"], "warning")
        rejects = {reject["code"]: (reject["class"], reject["reason"]) for reject in bulk["rejects"]}
        self.assertEqual(rejects["blk-l3"][0], "already")
        self.assertEqual(rejects[sgtin_hex(LAPTOP_GTIN, "BLK-L9")], ("not_on_rma", f"on {other.name}"))
        self.assertEqual(rejects["NEVER-SEEN-9"][0], "unknown")
        self.assertEqual(rejects["AMB-0001"][0], "ambiguous")
        self.assertIn("Luhn", rejects[bad_imei][1])
        self.assertEqual(rejects[f"(01)0{LAPTOP_GTIN[:-1]}9(21)BLK-L1"][0], "invalid")
        self.assertIn("no product carries it", rejects[sgtin_hex("4012345000047", "BLK-L1")][1])
        self.assertEqual(rejects[f"(01)0{LAPTOP_GTIN}(21)BLK-T1"][0], "unknown")
        self.assertEqual(len(rejects), 8)

        received = (
            self._unit(rma, "BLK-L1")
            | self._unit(rma, "BLK-L2")
            | self._unit(rma, imei)
            | self._unit(rma, "AMB-0001", self.tablet)
        )
        self.assertEqual(set(received.mapped("state")), {"received"})
        self.assertEqual(set(received.mapped("receipt_station")), {"PORTAL-1"})
        self.assertEqual(
            (rma.line_ids - received).filtered(lambda line: line.state == "received").serial_number, "BLK-L3"
        )
        self.assertEqual(other.line_ids.state, "authorized")
        for unit in received:
            self.assertEqual(self._quant_location(unit), self.quarantine, unit.serial_number)
            self.assertRecordValues(
                unit.custody_event_ids,
                [
                    {
                        "event_type": "receipt",
                        "read_ref": "READ/TEST/1",
                        "note": "Bulk read READ/TEST/1",
                        "station": "PORTAL-1",
                        "user_id": self.rma_user.id,
                        "location_dest_id": self.quarantine.id,
                    }
                ],
            )
        self.assertEqual(self._unit(rma, "BLK-L1").custody_event_ids.scanned_code, sgtin_hex(LAPTOP_GTIN, "BLK-L1"))
        self.assertEqual(self._unit(rma, imei).custody_event_ids.scanned_code, f"]d2010{PHONE_GTIN}21{imei}")
        self.assertEqual(self._unit(rma, "BLK-L3").custody_event_ids, l3_events)
        self.assertTrue(self._check()["ok"])
        # The screen's state: the RMA and its units.
        self.assertEqual(answer["rma"]["id"], rma.id)
        self.assertEqual(sum(line["state"] == "received" for line in answer["lines"]), 5)

    def test_read_without_rma_names_it_and_gets_an_identifier(self):
        rma = self._rma({self.laptop: ["BLK-N1", "BLK-N2"]})
        paste = f"{rma.name}\n{sgtin_hex(LAPTOP_GTIN, 'BLK-N1')}, {sgtin_hex(LAPTOP_GTIN, 'BLK-N2')}"
        answer = self.scan.receive_bulk(paste, station="DOCK-9")
        self.assertEqual(answer["rma"]["id"], rma.id)
        read_ref = answer["bulk"]["read_ref"]
        self.assertRegex(read_ref, r"^READ/DOCK-9/\d{8}T\d{6}\.\d{3}$")
        self.assertEqual(answer["bulk"]["counts"]["done"], 2)
        self.assertEqual(answer["level"], "success")
        self.assertEqual(set(rma.line_ids.custody_event_ids.mapped("read_ref")), {read_ref})
        # Read again: nothing is received twice.
        again = self.scan.receive_bulk(paste, station="DOCK-9")["bulk"]
        self.assertEqual((again["counts"]["done"], again["counts"]["already"]), (0, 2))
        self.assertEqual(len(rma.line_ids.custody_event_ids), 2)

    def test_a_failure_while_processing_leaves_nothing_received(self):
        rma = self._rma({self.laptop: ["BLK-F1", "BLK-F2", "BLK-F3"]})
        before = (
            self.env["stock.move"].search_count([("rma_line_id", "in", rma.line_ids.ids), ("state", "=", "done")]),
            self.env["rma.custody.event"].search_count([]),
            self.env["account.move"].search_count([]),
        )
        stock_move = type(self.env["stock.move"])
        original = stock_move._rma_post_receipt_entries

        def fail_on_f3(moves):
            # The last step of the receipt, once the moves are done and the events written.
            if "BLK-F3" in moves.rma_line_id.mapped("serial_number"):
                raise UserError(moves.env._("The RMA journal is locked."))
            return original(moves)

        with patch.object(stock_move, "_rma_post_receipt_entries", fail_on_f3):
            answer = self.scan.receive_bulk(
                [sgtin_hex(LAPTOP_GTIN, serial) for serial in ("BLK-F1", "BLK-F2", "BLK-F3")], rma_id=rma.id
            )
        bulk = answer["bulk"]
        self.assertEqual(bulk["error"], "The RMA journal is locked.")
        self.assertEqual((bulk["counts"]["done"], answer["level"]), (0, "danger"))
        self.assertIn("Nothing was recorded", answer["message"])
        self.assertEqual(set(rma.line_ids.mapped("state")), {"authorized"})
        self.assertFalse(rma.line_ids.custody_event_ids)
        self.assertFalse(rma.line_ids.location_id)
        self.assertEqual(
            (
                self.env["stock.move"].search_count([("rma_line_id", "in", rma.line_ids.ids), ("state", "=", "done")]),
                self.env["rma.custody.event"].search_count([]),
                self.env["account.move"].search_count([]),
            ),
            before,
        )
        for unit in rma.line_ids:
            self.assertNotEqual(self._quant_location(unit), self.quarantine)
        self.assertTrue(self._check()["ok"])
        # The same read once the journal is open again receives all three.
        answer = self.scan.receive_bulk([sgtin_hex(LAPTOP_GTIN, f"BLK-F{index}") for index in (1, 2, 3)], rma_id=rma.id)
        self.assertEqual(answer["bulk"]["counts"]["done"], 3)
        self.assertEqual(set(rma.line_ids.mapped("state")), {"received"})

    def test_custody_bulk_hands_the_read_units_over(self):
        rma = self._rma({self.laptop: ["BLK-C1", "BLK-C2", "BLK-C3"]})
        self.env["stock.picking"]._rma_receive(rma.line_ids[:2], station="DOCK")
        rack = self.env["stock.location"].create(
            {
                "name": "Returns Rack A",
                "usage": "internal",
                "location_id": self.quarantine.id,
                "barcode": "RACK-A-BULK",
            }
        )
        first, second, waiting = rma.line_ids.sorted("id")
        answer = self.scan.custody_bulk(
            [sgtin_hex(LAPTOP_GTIN, "BLK-C1"), "RACK-A-BULK", f"(01)0{LAPTOP_GTIN}(21)BLK-C2", "BLK-C3"],
            station="RACK-PORTAL",
            read_ref="READ/RACK/7",
        )
        bulk = answer["bulk"]
        self.assertEqual((bulk["counts"]["done"], bulk["counts"]["refused"]), (2, 1))
        self.assertEqual(bulk["location"], rack.display_name)
        self.assertEqual(bulk["rejects"][0]["code"], "BLK-C3")
        self.assertIn("not in our custody", bulk["rejects"][0]["reason"])
        self.assertEqual((first | second).location_id, rack)
        for unit in first | second:
            self.assertEqual(self._quant_location(unit), rack)
            event = unit.custody_event_ids.sorted("sequence")[-1]
            self.assertRecordValues(
                event,
                [
                    {
                        "event_type": "move",
                        "read_ref": "READ/RACK/7",
                        "location_id": self.quarantine.id,
                        "location_dest_id": rack.id,
                        "station": "RACK-PORTAL",
                    }
                ],
            )
            self.assertEqual(len(unit.custody_event_ids), 2)  # its receipt, then this handover
        self.assertEqual(waiting.state, "authorized")
        # Units are handed over to storage they may go to: not to sellable stock before their disposition.
        refused = self.scan.custody_bulk([sgtin_hex(LAPTOP_GTIN, "BLK-C1")], location_id=self.stock_location.id)
        self.assertEqual(refused["bulk"]["counts"]["refused"], 1)
        self.assertEqual(first.location_id, rack)
        with self.assertRaisesRegex(UserError, "barcode of the location"):
            self.scan.custody_bulk([sgtin_hex(LAPTOP_GTIN, "BLK-C1")])
        self.assertTrue(self._check()["ok"])

    def test_an_overridden_imei_is_received_as_declared(self):
        """A number failing the IMEI check digit is refused unless it is a unit's own, accepted by a manager's override
        when its RMA was authorized: the bulk read receives it as the single scan does."""
        odd_imei = "356938035643808"
        self._deliver(self.customer, self.phone, [odd_imei])
        rma = self._create_rma([(self.phone, odd_imei)])
        rma.line_ids._action_override("The customer's IMEI label is misprinted; checked by hand.")
        rma.action_authorize()
        answer = self.scan.receive_bulk([odd_imei, "356938035643816"], rma_id=rma.id)
        self.assertEqual((answer["bulk"]["counts"]["done"], answer["bulk"]["counts"]["invalid"]), (1, 1))
        self.assertEqual(answer["bulk"]["rejects"][0]["code"], "356938035643816")
        self.assertEqual(rma.line_ids.state, "received")

    def test_another_companys_units_are_unknown(self):
        """A Returns user of another company reads this company's tags: nothing of it is found, nothing received."""
        rma = self._rma({self.laptop: ["BLK-MC1"]})
        other_company = self.env["res.company"].create({"name": "RMA Bulk Elsewhere"})
        outsider = self._new_user("rma_bulk_outsider", "rma_recovery.group_rma_user", company=other_company)
        answer = (
            self.env["rma.scan"]
            .with_user(outsider)
            .receive_bulk([rma.name, sgtin_hex(LAPTOP_GTIN, "BLK-MC1"), "BLK-MC1"], station="ELSEWHERE")
        )
        self.assertEqual(answer["bulk"]["counts"]["done"], 0)
        self.assertEqual(answer["bulk"]["counts"]["unknown"], 3)
        self.assertNotIn("rma", answer)
        self.assertEqual(rma.line_ids.state, "authorized")

    def test_bad_reads_are_refused(self):
        for codes in ([], "  \n ", [42], None, {"a": 1}, ["x" * 200], ["ok", "a\x00b"]):
            with self.subTest(codes=codes), self.assertRaises(UserError):
                self.scan.receive_bulk(codes)
        with self.assertRaises(UserError):
            self.scan.receive_bulk(["A"], read_ref="x" * 100)
        rma = self._create_rma([(self.laptop, "BLK-D1")])
        with self.assertRaisesRegex(UserError, "only authorized RMAs"):
            self.scan.receive_bulk(["BLK-D1"], rma_id=rma.id)

    def test_queries_do_not_grow_with_the_read(self):
        """The read is resolved with a few queries whatever its size: 40 units cost about twice 20, not more."""
        small = self._rma({self.laptop: [f"BLK-Q{index:03d}" for index in range(20)]})
        big = self._rma({self.laptop: [f"BLK-Q{index:03d}" for index in range(100, 140)]})
        counts = []
        for rma in (small, big):
            codes = [sgtin_hex(LAPTOP_GTIN, line.serial_number) for line in rma.line_ids]
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.scan.receive_bulk(codes, rma_id=rma.id)
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
            self.assertEqual(set(rma.line_ids.mapped("state")), {"received"})
        self.assertLess(counts[1] / 40, counts[0] / 20 * 1.1, counts)


@tagged("post_install", "-at_install")
class TestRmaBulkReadRpc(RmaRpcCommon):
    """Over JSON-RPC, as the user who must be refused: a bulk read is for Returns users."""

    def test_bulk_read_needs_the_receiving_right(self):
        self.laptop.barcode = LAPTOP_GTIN
        rma = self._authorized_rma(["RPC-BLK-1", "RPC-BLK-2"])
        codes = [sgtin_hex(LAPTOP_GTIN, serial) for serial in ("RPC-BLK-1", "RPC-BLK-2")]
        stock_user = self._new_user("rpc_bulk_stock_user", "stock.group_stock_user")
        for method in ("receive_bulk", "custody_bulk"):
            self.assertRefused(self._call(stock_user, "rma.scan", method, codes))
        self.assertEqual(set(rma.line_ids.mapped("state")), {"authorized"})
        self.assertFalse(rma.line_ids.custody_event_ids)
        answer = self._call(self.rma_user, "rma.scan", "receive_bulk", codes, rma_id=rma.id, station="RPC")
        self.assertNotIn("error", answer)
        self.assertEqual(answer["result"]["bulk"]["counts"]["done"], 2)
        self.assertEqual(set(rma.line_ids.mapped("state")), {"received"})


@tagged("post_install", "-at_install")
class TestRmaBulkReadTour(RmaTourMixin, HttpCase):
    def test_paste_a_pallet_read_on_the_receive_screen(self):
        env = self.env
        customer = env["res.partner"].create({"name": "Bulk Tour Customer", "is_company": True})
        reason = env["rma.reason"].create({"name": "Tour bulk", "code": "TOURB", "is_proof_required": False})
        laptop = env["product.product"].create(
            {
                "name": "Tour Bulk Laptop",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "barcode": "4012345000047",
            }
        )
        serials = ["TOUR-BLK-0001", "TOUR-BLK-0002"]
        self._deliver(customer, laptop, serials)
        rma = self._authorized_rma(customer, reason, laptop, serials)
        rma.name = "RMA-BULK-TOUR"
        # The tags the tour pastes are epcpy's encodings of the two units.
        with file_open("rma_recovery/static/tests/tours/rma_bulk_read_tour.js") as tour:
            source = tour.read()
        for serial in serials:
            self.assertIn(sgtin_hex("4012345000047", serial), source)
        new_test_user(env, login="rma_bulk_dock", groups="rma_recovery.group_rma_user")

        self.start_tour("/odoo/rma-receive", "rma_recovery_bulk_read_tour", login="rma_bulk_dock")

        self.assertEqual(set(rma.line_ids.mapped("state")), {"received"})
        events = rma.line_ids.custody_event_ids
        self.assertEqual(len(events), 2)
        self.assertEqual(len(set(events.mapped("read_ref"))), 1)
        self.assertTrue(events[0].read_ref.startswith("READ/"))
        self.assertEqual(set(events.user_id.mapped("login")), {"rma_bulk_dock"})

        # Then at the rack's portal, on the Custody Scan screen.
        rack = env["stock.location"].create(
            {
                "name": "Bulk Tour Rack",
                "usage": "internal",
                "location_id": rma.warehouse_id.rma_quarantine_location_id.id,
                "barcode": "RACK-BULK-TOUR",
            }
        )
        self.start_tour("/odoo/rma-custody-scan", "rma_recovery_custody_bulk_read_tour", login="rma_bulk_dock")
        self.assertEqual(rma.line_ids.location_id, rack)
        moves = rma.line_ids.custody_event_ids.filtered(lambda event: event.event_type == "move")
        self.assertEqual(len(moves), 2)
        self.assertEqual(len(set(moves.mapped("read_ref"))), 1)
        self.assertNotEqual(moves[0].read_ref, events[0].read_ref)


@tagged("post_install", "-at_install")
class TestRmaDemoPalletFiles(TransactionCase):
    def test_demo_pallet_files_are_the_units_tags(self):
        """The read files the demo ships are epcpy's encodings of its pallets' units (a duplicate read aside)."""
        for path, pallet in PALLETS.items():
            with file_open(f"rma_recovery/{path}") as read:
                codes = list(dict.fromkeys(split_read(read.read())))
            self.assertEqual(codes, pallet_epcs(pallet), path)
