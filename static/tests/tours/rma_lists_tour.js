import { registry } from "@web/core/registry";

// Identifiers are read whole at 1366 px: no cell of an identifier column is cut off (its text is not wider than the
// cell) or broken over two lines, and the Status column is within the list and the window.
function assertWhole(selector, count = 1, { oneLine = true } = {}) {
    const cells = [...document.querySelectorAll(selector)];
    if (cells.length < count) {
        throw new Error(`${count} cells expected for ${selector}, ${cells.length} found`);
    }
    for (const cell of cells) {
        const text = cell.textContent.trim();
        if (!text) {
            throw new Error(`${selector}: an empty cell`);
        }
        for (const el of [cell, ...cell.querySelectorAll("*")]) {
            if (el.clientWidth && el.scrollWidth > el.clientWidth) {
                throw new Error(`${selector}: "${text}" is cut off (${el.scrollWidth} px in ${el.clientWidth} px)`);
            }
        }
        if (!oneLine) {
            continue;
        }
        const range = document.createRange();
        range.selectNodeContents(cell);
        const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.bottom)));
        if (lines.size > 1) {
            throw new Error(`${selector}: "${text}" is broken over ${lines.size} lines`);
        }
    }
}

function assertColumnVisible(listSelector, name) {
    const header = document.querySelector(`${listSelector} thead th[data-name=${name}]`);
    if (!header) {
        throw new Error(`${listSelector}: no ${name} column`);
    }
    const right = header.getBoundingClientRect().right;
    const list = header.closest(".o_list_renderer").getBoundingClientRect();
    if (right > list.right + 1 || right > window.innerWidth) {
        throw new Error(`${listSelector}: the ${name} column ends at ${right} px, outside the list or the window`);
    }
}

registry.category("web_tour.tours").add("rma_recovery_lists_tour", {
    steps: () => [
        {
            content: "The RMA's Units tab shows each of the six serials whole, and their status",
            trigger: ".o_form_view div[name=line_ids] .o_data_row:nth-child(6) td[name=serial_number]",
            run() {
                assertWhole(".o_form_view div[name=line_ids] .o_data_row td[name=serial_number]", 6);
                assertColumnVisible(".o_form_view div[name=line_ids]", "state");
            },
        },
        {
            content: "Back to the RMA list",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The RMA list shows the RMA numbers whole",
            trigger: ".o_list_view .o_data_row td[name=display_name]:contains('RMA/')",
            run() {
                assertWhole(".o_list_view .o_data_row td[name=display_name]");
                assertColumnVisible(".o_list_view", "state");
            },
        },
        {
            content: "Open the Returns menu",
            trigger: ".o_menu_sections [data-menu-xmlid='rma_recovery.rma_menu_root']",
            run: "click",
        },
        {
            content: "Open the returned units",
            trigger: ".dropdown-item[data-menu-xmlid='rma_recovery.rma_line_menu']",
            run: "click",
        },
        {
            // Wait for the units to load: a view switch clicked on the RMA list before would cancel their action.
            content: "The returned units are shown",
            trigger: ".o_last_breadcrumb_item:contains('Returned Units')",
        },
        {
            content: "As a list",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "The Units list shows RMA numbers and serials whole, and their status",
            trigger: ".o_list_view .o_data_row:nth-child(6) td[name=serial_number]",
            run() {
                assertWhole(".o_list_view .o_data_row td[name=rma_id]", 6);
                assertWhole(".o_list_view .o_data_row td[name=serial_number]", 6);
                assertColumnVisible(".o_list_view", "state");
            },
        },
        {
            content: "Open the Returns menu",
            trigger: ".o_menu_sections [data-menu-xmlid='rma_recovery.rma_menu_root']",
            run: "click",
        },
        {
            content: "Open the chain of custody",
            trigger: ".dropdown-item[data-menu-xmlid='rma_recovery.rma_custody_event_menu']",
            run: "click",
        },
        {
            content: "The Chain of Custody list shows RMA numbers, serials and users whole",
            trigger: ".o_list_view .o_data_row:nth-child(6) td[name=serial]",
            run() {
                assertWhole(".o_list_view .o_data_row td[name=rma_id]", 6);
                assertWhole(".o_list_view .o_data_row td[name=serial]", 6);
                assertWhole(".o_list_view .o_data_row td[name=user_id]", 6, { oneLine: false });
            },
        },
    ],
});

registry.category("web_tour.tours").add("rma_recovery_blocked_serial_tour", {
    steps: () => [
        {
            content: "The blocked serial's warning is whole: the Blocked ribbon covers none of it",
            trigger: ".o_form_view .alert-danger:contains('Reactivation blocked'):contains('back into stock')",
            run() {
                const alert = this.anchor.getBoundingClientRect();
                const ribbon = document.querySelector(".o_form_view .ribbon").getBoundingClientRect();
                const overlaps =
                    alert.left < ribbon.right &&
                    ribbon.left < alert.right &&
                    alert.top < ribbon.bottom &&
                    ribbon.top < alert.bottom;
                if (overlaps) {
                    throw new Error("The Blocked ribbon lies over the warning");
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("rma_recovery_validate_breadcrumb_tour", {
    steps: () => [
        {
            content: "Validate the RMA's receipt",
            trigger: ".o_form_view .o_statusbar_buttons button[name=button_validate]",
            run: "click",
        },
        {
            content: "The Receive screen opens on the RMA, under the receipt in the breadcrumbs",
            trigger: ".o_rma_scan_screen:has(.o_rma_scan_rma) .o_breadcrumb .active:contains('Receive Returns')",
        },
        {
            content: "Back to the receipt",
            trigger: ".o_rma_scan_screen .o_breadcrumb .breadcrumb-item a:contains('RMA')",
            run: "click",
        },
        {
            content: "The receipt's form",
            trigger: ".o_form_view .o_field_widget[name=rma_id]",
        },
    ],
});
