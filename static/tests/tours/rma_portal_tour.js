import { registry } from "@web/core/registry";

// A portal customer requests the return of two serials of one delivered order, with a proof of purchase in PDF, and
// sees the request as Requested.
registry.category("web_tour.tours").add("rma_recovery_portal_request_tour", {
    url: "/my/returns",
    steps: () => [
        {
            content: "Request a return",
            trigger: "a.o_rma_portal_request",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose the reason",
            trigger: "select[name=reason_id]",
            run: "selectByLabel Portal tour reason",
        },
        {
            content: "Tick the first serial",
            trigger: ".o_rma_portal_order label:contains(PTOUR-SN-1)",
            run: "click",
        },
        {
            content: "Tick the second serial",
            trigger: ".o_rma_portal_order label:contains(PTOUR-SN-2)",
            run: "click",
        },
        {
            content: "Describe the problem",
            trigger: "textarea[name=description]",
            run: "edit Both laptops fail to boot.",
        },
        {
            content: "Attach the proof of purchase (a PDF)",
            trigger: "input[name=proof]",
            run() {
                const proof = new File(["%PDF-1.4\n% tour proof\n"], "invoice.pdf", { type: "application/pdf" });
                const transfer = new DataTransfer();
                transfer.items.add(proof);
                this.anchor.files = transfer.files;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Send the request",
            trigger: "button.o_rma_portal_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The return is Requested, with both units",
            trigger: ".o_portal_sidebar .badge:contains(Requested)",
        },
        {
            content: "Both serials are listed",
            trigger: ".o_portal_rma_units:contains(PTOUR-SN-1):contains(PTOUR-SN-2)",
        },
        {
            content: "and the proof",
            trigger: "#rma_proof a:contains(invoice.pdf)",
        },
    ],
});

// Once a manager authorized it, the customer downloads the label from the RMA's page.
registry.category("web_tour.tours").add("rma_recovery_portal_label_tour", {
    url: "/my/returns",
    steps: () => [
        {
            content: "Open the return",
            trigger: "a[href^='/my/returns/']:contains(RMA)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The return is Authorized",
            trigger: ".o_portal_sidebar .badge:contains(Authorized)",
        },
        {
            content: "Download the label",
            trigger: "a.o_rma_portal_label",
            async run() {
                const response = await fetch(this.anchor.getAttribute("href"));
                if (response.status !== 200 || response.headers.get("Content-Type") !== "application/pdf") {
                    throw new Error(`The label could not be downloaded: ${response.status}`);
                }
                document.body.classList.add("o_rma_label_downloaded");
            },
        },
        {
            content: "The label was downloaded",
            trigger: "body.o_rma_label_downloaded",
        },
    ],
});
