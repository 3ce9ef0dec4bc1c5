import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const entryLabel = ".o_list_view .o_data_row td[name=name]:contains('ACC-TOUR-0001 PH')";

// A Billing Administrator (Community's Invoicing admin, not in Returns) finds the RMA entries in Invoicing's reporting,
// reads an entry's whole label (RMA, serial, code), opens its unit, then the unit's RMA and its Journal Items.
registry.category("web_tour.tours").add("rma_recovery_billing_entries_tour", {
    steps: () => [
        ...stepUtils.goToAppSteps("account.menu_finance", "Open Invoicing"),
        {
            content: "Open its Reporting menu",
            trigger: ".o_menu_sections [data-menu-xmlid='account.menu_finance_reports']",
            run: "click",
        },
        {
            content: "RMA Entries",
            trigger: ".dropdown-item[data-menu-xmlid='rma_recovery.account_move_line_menu_rma_invoicing']",
            run: "click",
        },
        {
            content: "The entry's label shows the RMA, the serial and the code, whole",
            trigger: entryLabel,
            run({ anchor }) {
                if (anchor.scrollWidth > anchor.clientWidth) {
                    throw new Error(`The label is cut: ${anchor.clientWidth}px shown of ${anchor.scrollWidth}px`);
                }
            },
        },
        {
            content: "Open the entry's unit",
            trigger: entryLabel,
            run: "click",
        },
        {
            content: "The unit's form, with its Journal Items",
            trigger: ".o_form_view .o_notebook a[name=journal_items]",
            run: "click",
        },
        {
            content: "The unit's journal items",
            trigger: ".o_form_view .o_field_widget[name=account_move_line_ids] td[name=name]:contains('ACC-TOUR-0001 PH')",
        },
        {
            content: "Open the unit's RMA",
            trigger: ".o_form_view .o_field_widget[name=rma_id] a",
            run: "click",
        },
        {
            content: "The RMA's Journal Items",
            trigger: ".o_form_view button[name=action_view_journal_items]",
            run: "click",
        },
        {
            content: "Its entries, labelled",
            trigger: ".o_list_view .o_data_row td[name=name]:contains('ACC-TOUR-0001 PH')",
        },
    ],
});
