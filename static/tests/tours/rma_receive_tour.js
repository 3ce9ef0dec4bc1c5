import { registry } from "@web/core/registry";

function scan(code) {
    return [
        {
            content: `Scan ${code}`,
            trigger: ".o_rma_scan_input:enabled",
            run: `edit ${code}`,
        },
        {
            content: "Enter, as the scanner sends it",
            trigger: ".o_rma_scan_input",
            run: "press Enter",
        },
    ];
}

// Warehouse staff receive a parcel: the RMA number, an expected serial, then a serial that is not on the RMA.
registry.category("web_tour.tours").add("rma_recovery_receive_tour", {
    steps: () => [
        {
            content: "The Receive screen asks for the RMA number",
            trigger: ".o_rma_scan_screen .o_rma_scan_message:contains('Scan the RMA number')",
        },
        ...scan("RMA-TOUR-NUMBER"),
        {
            content: "The RMA and its expected units show",
            trigger: ".o_rma_scan_lines tr[data-serial='TOUR-RCV-0001'][data-state='authorized']",
        },
        ...scan("TOUR-RCV-0001"),
        {
            content: "The unit is received",
            trigger: ".o_rma_scan_lines tr[data-serial='TOUR-RCV-0001'][data-state='received']",
        },
        {
            content: "Success message",
            trigger: ".o_rma_scan_message.alert-success",
        },
        ...scan("TOUR-RCV-OTHER"),
        {
            content: "The unexpected unit is held as a suspected substitution",
            trigger: ".o_rma_scan_message.alert-warning:contains('substitution')",
        },
        {
            content: "It is listed on the RMA",
            trigger: ".o_rma_scan_lines tr[data-serial='TOUR-RCV-OTHER'][data-state='received']",
        },
        {
            content: "Two scans in a burst, the second before the first is answered: both are sent, in order",
            trigger: ".o_rma_scan_input:enabled",
            run() {
                const input = document.querySelector(".o_rma_scan_input");
                for (const code of ["TOUR-RCV-0002", "TOUR-RCV-0001"]) {
                    input.value = code;
                    input.dispatchEvent(new Event("input", { bubbles: true }));
                    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
                }
            },
        },
        {
            content: "The first of the burst is received",
            trigger: ".o_rma_scan_lines tr[data-serial='TOUR-RCV-0002'][data-state='received']",
        },
        {
            content: "The second (scanned again) is refused on screen, after it",
            trigger: ".o_rma_scan_message.alert-danger:contains('already received')",
        },
    ],
});
