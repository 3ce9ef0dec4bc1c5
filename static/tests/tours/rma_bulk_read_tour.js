import { registry } from "@web/core/registry";

// The two units' RFID tags (SGTIN-198 of GTIN 4012345000047, serials TOUR-BLK-0001 and 0002), as a portal exports
// them; tests/test_rma_bulk_read.py checks these are epcpy's encodings.
const TAG_1 = "3634F4E4E400012A4FAB496C2992D6B060C18800000000000000";
const TAG_2 = "3634F4E4E400012A4FAB496C2992D6B060C19000000000000000";

// At the dock, a pallet's RFID read is pasted on the Receive screen: the RMA number, then its tags (one read twice)
// and a code nobody knows. The units are received at once; the summary counts them and lists the reject.
registry.category("web_tour.tours").add("rma_recovery_bulk_read_tour", {
    steps: () => [
        {
            content: "The Receive screen asks for the RMA number",
            trigger: ".o_rma_scan_screen .o_rma_scan_message:contains('Scan the RMA number')",
        },
        {
            content: "Scan the RMA number",
            trigger: ".o_rma_scan_input:enabled",
            run: "edit RMA-BULK-TOUR",
        },
        {
            content: "Enter",
            trigger: ".o_rma_scan_input",
            run: "press Enter",
        },
        {
            content: "The RMA's units show, expected",
            trigger: ".o_rma_scan_lines tr[data-serial='TOUR-BLK-0002'][data-state='authorized']",
        },
        {
            content: "Open the bulk read",
            trigger: ".o_rma_bulk_toggle",
            run: "click",
        },
        {
            content: "Paste the portal's read",
            trigger: ".o_rma_bulk_codes",
            run: `edit ${TAG_1} ${TAG_2} ${TAG_1}, NOBODY-KNOWS-ME`,
        },
        {
            content: "Receive the read",
            trigger: ".o_rma_bulk_send:enabled",
            run: "click",
        },
        {
            content: "Both units received at once",
            trigger: ".o_rma_bulk_summary .o_rma_bulk_count_done[data-count='2']",
        },
        {
            content: "The tag read twice is counted once",
            trigger: ".o_rma_bulk_summary .o_rma_bulk_count_duplicate[data-count='1']",
        },
        {
            content: "The unknown code is listed with its reason",
            trigger: ".o_rma_bulk_rejects tr[data-class='unknown']:contains('NOBODY-KNOWS-ME')",
        },
        {
            content: "The RMA's units show received",
            trigger: ".o_rma_scan_lines tr[data-serial='TOUR-BLK-0001'][data-state='received']",
        },
    ],
});

// The same pallet's read at the rack's portal, on the Custody Scan screen: the units handed over to the rack whose
// barcode is typed under the read.
registry.category("web_tour.tours").add("rma_recovery_custody_bulk_read_tour", {
    steps: () => [
        {
            content: "The Custody Scan screen",
            trigger: ".o_rma_scan_screen .o_rma_scan_message:contains('Scan a returned unit')",
        },
        {
            content: "Open the bulk read",
            trigger: ".o_rma_bulk_toggle",
            run: "click",
        },
        {
            content: "Paste the portal's read",
            trigger: ".o_rma_bulk_codes",
            run: `edit ${TAG_1} ${TAG_2}`,
        },
        {
            content: "The rack's barcode",
            trigger: ".o_rma_bulk_location",
            run: "edit RACK-BULK-TOUR",
        },
        {
            content: "Hand the read over",
            trigger: ".o_rma_bulk_send:enabled",
            run: "click",
        },
        {
            content: "Both units handed over",
            trigger: ".o_rma_bulk_summary .o_rma_bulk_count_done[data-count='2']",
        },
        {
            content: "Success",
            trigger: ".o_rma_scan_message.alert-success:contains('handed over')",
        },
    ],
});
