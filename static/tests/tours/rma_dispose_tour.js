import { registry } from "@web/core/registry";

// A manager opens an RMA whose two units are inspected, disposes them from the wizard (the suggestions are kept,
// the refurbished unit gets its net realizable value) and sees their new status on the RMA.
registry.category("web_tour.tours").add("rma_recovery_dispose_tour", {
    steps: () => [
        {
            content: "Open the disposition wizard",
            trigger: ".o_form_view button[name=action_open_disposition_wizard]",
            run: "click",
        },
        {
            content: "The refurbishment suggestion is kept: enter the unit's net realizable value",
            trigger: ".modal .o_data_row:has(td[name=disposition_id]:contains('REF')) td[name=net_realizable_value]",
            run: "click",
        },
        {
            content: "Type the value",
            trigger: ".modal .o_data_row .o_field_widget[name=net_realizable_value] input",
            run: "edit 300",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The returned-to-stock unit is closed",
            trigger: ".o_form_view div[name=line_ids] .o_data_row:has(td[name=disposition_id]:contains('RTS')) td[name=state]:contains('Closed')",
        },
        {
            content: "The refurbished unit is in refurbishment",
            trigger: ".o_form_view div[name=line_ids] .o_data_row:has(td[name=disposition_id]:contains('REF')) td[name=state]:contains('In Repair/Refurbishment')",
        },
    ],
});
