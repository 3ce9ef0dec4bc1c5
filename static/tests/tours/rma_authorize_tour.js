import { registry } from "@web/core/registry";

// A manager opens Inventory > Returns, records an RMA for a delivered serial and authorizes it.
registry.category("web_tour.tours").add("rma_recovery_authorize_tour", {
    url: "/odoo/action-rma_recovery.rma_order_action",
    steps: () => [
        {
            content: "Create a new RMA",
            trigger: ".o_control_panel .o_list_button_add",
            run: "click",
        },
        {
            content: "Type the customer",
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Tour Customer",
        },
        {
            content: "Pick the customer",
            trigger: ".o-autocomplete--dropdown-item > a:contains('Tour Customer')",
            run: "click",
        },
        {
            content: "Type the reason",
            trigger: ".o_field_widget[name=reason_id] input",
            run: "edit Tour reason",
        },
        {
            content: "Pick the reason",
            trigger: ".o-autocomplete--dropdown-item > a:contains('Tour reason')",
            run: "click",
        },
        {
            content: "Add a unit",
            trigger: "div[name=line_ids] .o_field_x2many_list_row_add > a",
            run: "click",
        },
        {
            content: "Type the product",
            trigger: "div[name=line_ids] .o_field_widget[name=product_id] input",
            run: "edit Tour Laptop",
        },
        {
            content: "Pick the product",
            trigger: ".o-autocomplete--dropdown-item > a:contains('Tour Laptop')",
            run: "click",
        },
        {
            content: "Scan or type the serial",
            trigger: "div[name=line_ids] .o_field_widget[name=serial_number] input",
            run: "edit TOUR-SN-0001",
        },
        {
            content: "Save the request",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The serial matched the delivery: no flag",
            trigger: ".o_form_saved div[name=line_ids] .o_data_row td[name=lot_id]:contains('TOUR-SN-0001')",
        },
        {
            content: "Authorize",
            trigger: ".o_form_view button[name=action_authorize]",
            run: "click",
        },
        {
            content: "The RMA is authorized and numbered",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Authorized')",
        },
        {
            content: "The number shows in the title",
            trigger: ".oe_title :contains('RMA/')",
        },
    ],
});
