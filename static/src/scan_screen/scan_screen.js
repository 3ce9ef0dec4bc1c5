import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const STATION_KEY = "rma_recovery.station";

/**
 * Scanning screen for the warehouse floor: one input that a keyboard-wedge scanner (or a person) types into,
 * Enter submits. "Receive" (scan the RMA number, then each unit) and "Custody scan" (scan a unit, then the
 * location it is handed to) share it; the server decides and answers with what to show next.
 */
export class RmaScanScreen extends Component {
    static template = "rma_recovery.ScanScreen";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.isCustody = this.props.action.tag === "rma_recovery.custody_scan";
        this.state = useState({
            code: "",
            station: localStorage.getItem(STATION_KEY) || "",
            rma: null,
            lines: [],
            line: null,
            message: this.isCustody
                ? _t("Scan a returned unit, then the location it is handed to.")
                : _t("Scan the RMA number on the parcel."),
            level: "info",
            busy: false,
            pending: 0,
            // Bulk read: a list of codes sent at once (an RFID portal's export, a paste), and its summary.
            bulkOpen: false,
            bulkText: "",
            bulkLocation: "",
            bulk: null,
        });
        // Codes scanned while a call is under way, sent one after the other in the order they were scanned.
        this.queue = [];
        this.inputRef = useRef("scanInput");
        onMounted(async () => {
            const rmaId = this.props.action.params?.rma_id;
            if (rmaId && !this.isCustody) {
                this.apply(await this.orm.call("rma.scan", "receive_open", [rmaId]));
            }
            this.focus();
        });
    }

    get title() {
        return this.isCustody ? _t("Custody Scan") : _t("Receive Returns");
    }

    focus() {
        this.inputRef.el?.focus();
    }

    onStationChange(ev) {
        this.state.station = ev.target.value.trim();
        localStorage.setItem(STATION_KEY, this.state.station);
    }

    async onKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            await this.submit();
        }
    }

    async submit() {
        const code = this.state.code.trim();
        // Clear the field at once: the next scan must not be appended to this one.
        this.state.code = "";
        this.inputRef.el.value = "";
        if (!code) {
            return;
        }
        this.queue.push(code);
        this.state.pending = this.queue.length;
        if (this.state.busy) {
            return; // the loop below sends it after the scans before it
        }
        this.state.busy = true;
        try {
            while (this.queue.length) {
                const next = this.queue.shift();
                this.state.pending = this.queue.length;
                await this.send(next);
            }
        } finally {
            this.state.busy = false;
            this.focus();
        }
    }

    async send(code) {
        // The RMA or unit on screen is read when the scan is sent: the answer to the scan before it set it.
        const station = this.state.station || false;
        try {
            const result = this.isCustody
                ? await this.orm.call("rma.scan", "custody_scan", [code], {
                      line_id: this.state.line?.id || false,
                      station,
                  })
                : await this.orm.call("rma.scan", "receive_scan", [code], {
                      rma_id: this.state.rma?.id || false,
                      station,
                  });
            this.apply(result);
        } catch (error) {
            this.state.message = error.data?.message || error.message || String(error);
            this.state.level = "danger";
        }
    }

    toggleBulk() {
        this.state.bulkOpen = !this.state.bulkOpen;
        if (!this.state.bulkOpen) {
            this.focus();
        }
    }

    /**
     * Send the pasted read at once: the server parses, deduplicates and resolves its codes, processes the accepted
     * units in one transaction (all or none) and answers with the read's summary.
     */
    async sendBulk() {
        const text = this.state.bulkText.trim();
        if (!text || this.state.busy) {
            return;
        }
        this.state.busy = true;
        const station = this.state.station || false;
        try {
            const result = this.isCustody
                ? await this.orm.call(
                      "rma.scan",
                      "custody_bulk",
                      [this.state.bulkLocation.trim() ? `${text}\n${this.state.bulkLocation.trim()}` : text],
                      { station }
                  )
                : await this.orm.call("rma.scan", "receive_bulk", [text], {
                      rma_id: this.state.rma?.id || false,
                      station,
                  });
            this.apply(result);
            this.state.bulk = result.bulk;
            if (!result.bulk.error) {
                this.state.bulkText = "";
            }
        } catch (error) {
            this.state.message = error.data?.message || error.message || String(error);
            this.state.level = "danger";
            this.state.bulk = null;
        } finally {
            this.state.busy = false;
        }
    }

    bulkCounts() {
        const bulk = this.state.bulk;
        return bulk ? bulk.classes.filter((name) => bulk.counts[name]).map((name) => [name, bulk.labels[name], bulk.counts[name]]) : [];
    }

    apply(result) {
        if ("rma" in result) {
            this.state.rma = result.rma;
            this.state.lines = result.lines;
        }
        if ("line" in result) {
            this.state.line = result.line || null;
        }
        this.state.message = result.message;
        this.state.level = result.level;
    }

    badgeClass(line) {
        if (line.is_substitution) {
            return "text-bg-warning";
        }
        return line.state === "authorized" ? "text-bg-secondary" : "text-bg-success";
    }
}

registry.category("actions").add("rma_recovery.receive", RmaScanScreen);
registry.category("actions").add("rma_recovery.custody_scan", RmaScanScreen);
