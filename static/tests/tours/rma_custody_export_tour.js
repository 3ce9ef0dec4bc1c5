import { registry } from "@web/core/registry";

// A manager opens Returns > Custody Exports, creates an export of this month and starts it: the export shows In
// Progress with the units to export and its progress bar (the background job writes the file).
registry.category("web_tour.tours").add("rma_recovery_custody_export_tour", {
    steps: () => [
        {
            content: "Create an export",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "A draft, for this month by default",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Draft')",
        },
        {
            content: "Start it",
            trigger: "button[name=action_start]",
            run: "click",
        },
        {
            content: "It is in progress",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('In Progress')",
        },
        {
            content: "With the units to export and its progress bar",
            trigger: ".o_field_progressbar[name=unit_done] .o_progressbar_value span:last-child:contains('2')",
        },
    ],
});
