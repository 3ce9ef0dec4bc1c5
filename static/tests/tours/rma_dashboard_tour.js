import { registry } from "@web/core/registry";

// A manager opens Dashboards > Returns: the real dashboard (not the sample), its pivots loaded, and a figure of the
// top return reasons opens the records it counts.
registry.category("web_tour.tours").add("rma_recovery_dashboard_tour", {
    steps: () => [
        {
            content: "Open the Returns dashboard",
            trigger: ".o_search_panel_category_value:contains('Returns')",
            run: "click",
        },
        {
            content: "It is the one selected",
            trigger: ".o_search_panel_category_value.active:contains('Returns')",
        },
        {
            content: "The KPIs show, from the database (not the sample dashboard)",
            trigger: ".o_renderer:not(.o-sample-dashboard) .o-figure",
        },
        {
            content: "The top reasons are loaded: their counts open the records",
            trigger: ".o_renderer .o-dashboard-clickable-cell[title='See records']",
            run: "click",
        },
        {
            content: "The units returned for that reason, in the Return Rate report",
            trigger: ".o_list_view .o_data_row",
        },
    ],
});
