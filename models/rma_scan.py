from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from .rma_line import ON_HAND_STATES
from .rma_workflow_guard import server_create
from .stock_picking import RECEIVABLE_RMA_STATES


class RmaScan(models.AbstractModel):
    """Server side of the scanning screens (Receive, Custody scan).

    Each call handles one scan and returns what the screen shows next. Bad scans raise a UserError: the
    screen shows its message and, the transaction being rolled back, nothing is written.
    """

    _name = "rma.scan"
    _description = "RMA Scanning Screens"

    # ------------------------------------------------------------------
    # Receive screen
    # ------------------------------------------------------------------
    @api.model
    def _code_is(self, field_name, code):
        """``field_name`` is exactly ``code`` whatever its case (``%`` and ``_`` are characters): lower(field) =
        lower(code), the expression the scanned models index (a search with =ilike reads every row)."""
        return Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "lower(%s) = lower(%s)", model._field_to_sql(alias, field_name, query), code
            )
        )

    @api.model
    def receive_scan(self, code, rma_id=False, station=False):
        code, rma_id, station = self._check_scan_arguments(code, rma_id, station)
        scanned_rma = self.env["rma.order"].search(self._code_is("name", code), limit=1)
        if scanned_rma:
            if scanned_rma.state not in RECEIVABLE_RMA_STATES:
                raise UserError(
                    self.env._(
                        "%(rma)s is %(state)s: only authorized RMAs can be received.",
                        rma=scanned_rma.name,
                        state=self._state_label(scanned_rma),
                    )
                )
            return self._receive_state(
                scanned_rma, self.env._("%(rma)s: scan each unit's serial number or IMEI.", rma=scanned_rma.name)
            )
        rma = self.env["rma.order"].browse(rma_id).exists()
        if not rma:
            raise UserError(
                self.env._("“%(code)s” is not an RMA number: scan the RMA number on the parcel first.", code=code)
            )

        line = self._one_unit(rma.line_ids._find_by_code(code, [("rma_id", "=", rma.id)]), code)
        if line:
            self.env["stock.picking"]._rma_receive(line, station=station, scanned_codes={line.id: code})
            return self._receive_state(
                rma, self.env._("%(unit)s received into quarantine.", unit=line.display_name), "success"
            )

        untracked = rma.line_ids.filtered(
            lambda line: line.tracking == "none" and code in (line.product_id.barcode, line.product_id.default_code)
        )
        if untracked:
            pending = untracked.filtered(lambda line: line.state == "authorized")[:1]
            if not pending:
                raise UserError(
                    self.env._(
                        "All the %(product)s expected on %(rma)s are already received.",
                        product=untracked[0].product_id.display_name,
                        rma=rma.name,
                    )
                )
            self.env["stock.picking"]._rma_receive(
                pending, station=station, scanned_codes={pending.id: code}, quantity=1.0
            )
            return self._receive_state(
                rma,
                self.env._(
                    "1 %(product)s received (%(done)s of %(expected)s).",
                    product=pending.product_id.display_name,
                    done=pending.quantity_received,
                    expected=pending.quantity,
                ),
                "success",
            )

        lots = self.env["stock.lot"].search([("name", "=", code), ("company_id", "in", [False, rma.company_id.id])])
        if len(lots) > 1:
            raise UserError(
                self.env._(
                    "Serial %(serial)s exists for several products (%(products)s): nothing was recorded. Check the"
                    " unit's label and add it to the RMA with its product.",
                    serial=code,
                    products=", ".join(lots.product_id.mapped("display_name")),
                )
            )
        lot = lots
        if lot:
            # Refused before the substitute's line is created: in stock already, or expected on another RMA.
            self.env["stock.picking"]._rma_check_serials_receivable([(lot, lot.product_id, code)], rma.company_id, rma)
            substitute = server_create(self.env["rma.line"], self._prepare_substitution_line_vals(rma, lot, code))
            # Requested, then authorized through the state machine like every unit: its authorization date counts
            # it in the return rate.
            substitute._transition("authorized")
            self.env["stock.picking"]._rma_receive(substitute, station=station, scanned_codes={substitute.id: code})
            return self._receive_state(
                rma,
                self.env._(
                    "%(serial)s is not on %(rma)s: received into quarantine and held as a suspected substitution"
                    " for a manager.",
                    serial=code,
                    rma=rma.name,
                ),
                "warning",
            )
        raise UserError(
            self.env._(
                "“%(code)s” is neither an RMA number, a unit of %(rma)s, nor a serial number we know."
                " Nothing was recorded.",
                code=code,
                rma=rma.name,
            )
        )

    @api.model
    def _prepare_substitution_line_vals(self, rma, lot, code):
        """A unit of ``lot`` that arrived on ``rma`` although it is not one of its units."""
        return {
            "rma_id": rma.id,
            "product_id": lot.product_id.id,
            "serial_number": code,
            "quantity": 1.0,
            "is_substitution": True,
            "override_reason": self.env._("Received on %(rma)s in place of an authorized unit.", rma=rma.name),
            "override_user_id": self.env.uid,
            "override_date": fields.Datetime.now(),
        }

    @api.model
    def receive_open(self, rma_id):
        """The Receive screen opened from an RMA. Not ``@api.readonly``: the screen reopened (or reloaded) right after a
        scan must show that scan even when a read replica lags (readme/DEPLOY.md)."""
        rma = self.env["rma.order"].browse(self._check_record_id(rma_id)).exists()
        if not rma:
            raise UserError(self.env._("This RMA no longer exists."))
        return self._receive_state(rma, self.env._("%(rma)s: scan each unit's serial number or IMEI.", rma=rma.name))

    @api.model
    def _receive_state(self, rma, message, level="info"):
        return {
            "rma": {
                "id": rma.id,
                "name": rma.name,
                "partner": rma.partner_id.display_name,
                "state": self._state_label(rma),
            },
            "lines": [
                {
                    "id": line.id,
                    "product": line.product_id.display_name,
                    "serial": line.serial_number or "",
                    "quantity": line.quantity,
                    "quantity_received": line.quantity_received,
                    "state": line.state,
                    "state_label": self._state_label(line),
                    "is_substitution": line.is_substitution,
                }
                for line in rma.line_ids
            ],
            "message": message,
            "level": level,
        }

    # ------------------------------------------------------------------
    # Custody scan screen
    # ------------------------------------------------------------------
    @api.model
    def custody_scan(self, code, line_id=False, station=False):
        """First a unit, then the location it is handed to."""
        code, line_id, station = self._check_scan_arguments(code, line_id, station)
        unit = self._one_unit(self.env["rma.line"]._find_by_code(code, [("state", "in", ON_HAND_STATES)]), code)
        if unit:
            self.env["rma.custody.event"]._log(unit, "scan", station=station, scanned_code=code)
            return self._custody_state(
                unit, self.env._("%(unit)s: scan the location it goes to.", unit=unit.display_name)
            )
        line = self.env["rma.line"].browse(line_id).exists()
        if not line:
            raise UserError(
                self.env._("“%(code)s” is not a returned unit in our custody: scan a unit first.", code=code)
            )
        location = self.env["stock.location"].search(
            [("barcode", "=", code), ("company_id", "in", [False, line.company_id.id])], limit=1
        )
        if not location:
            raise UserError(self.env._("“%(code)s” is neither a unit nor a location barcode.", code=code))
        line._ensure_can_be_handed_to(location)
        line._action_move_to(location, station=station, scanned_code=code)
        return self._custody_state(
            self.env["rma.line"],
            self.env._("%(unit)s moved to %(location)s.", unit=line.display_name, location=location.display_name),
            "success",
        )

    @api.model
    def _custody_state(self, line, message, level="info"):
        return {
            "line": line
            and {
                "id": line.id,
                "name": line.display_name,
                "location": line.location_id.display_name,
                "state_label": self._state_label(line),
            },
            "message": message,
            "level": level,
        }

    @api.model
    def _check_scan_arguments(self, code, record_id, station):
        """What a scanner sends: a code (text), the id of the RMA or unit on screen, the station's name. Anything
        else is refused in the user's terms, whatever a client sends."""
        if not isinstance(code, str) or not code.strip() or "\x00" in code or len(code) > 128:
            raise UserError(self.env._("Scan or type a code (a line of text)."))
        record_id = self._check_record_id(record_id)
        if station in (None, False, ""):
            station = False
        elif not isinstance(station, str) or "\x00" in station or len(station) > 64:
            raise UserError(self.env._("The station name must be a short line of text."))
        return code.strip(), record_id, station

    @api.model
    def _check_record_id(self, record_id):
        """The id of the RMA or unit on screen (False for none)."""
        if record_id in (None, False):
            return False
        if isinstance(record_id, bool) or not isinstance(record_id, int) or not 0 < record_id < 2**31:
            raise UserError(self.env._("The screen sent an invalid record: reload it and scan again."))
        return record_id

    @api.model
    def _one_unit(self, units, code):
        """The unit ``code`` names, or nothing; several is ambiguous: refused with the candidates named."""
        if len(units) > 1:
            raise UserError(
                self.env._(
                    "“%(code)s” matches several units (%(units)s): nothing was recorded. Scan the unit's RMA first.",
                    code=code,
                    units=", ".join(units.mapped("display_name")),
                )
            )
        return units

    @api.model
    def _state_label(self, record):
        return dict(record._fields["state"]._description_selection(self.env))[record.state]
