from odoo import api, fields, models


class RmaDemo(models.AbstractModel):
    """Remarketing by grade in the demo: the channels' shares of each grade, a Refurbished pricelist with a rule per
    grade, the refurbished grade-B laptop of the history finished into graded stock (its serial now says
    Refurbished, grade B, and it got its channel), and a sale order for a grade-B laptop whose delivery reserved it."""

    _inherit = "rma.demo"

    @api.model
    def _demo_remarketing(self):
        env = self.env
        company = env.company
        manager, inspector = self._demo_people()
        grade = {code: env.ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "c")}
        channel = {name: env.ref(f"rma_recovery.rma_channel_{name}") for name in ("b2b", "outlet", "recycler")}
        shares = {
            "a": {"b2b": 70, "outlet": 30},
            "b": {"b2b": 50, "outlet": 40, "recycler": 10},
            "c": {"outlet": 60, "recycler": 40},
        }
        env["rma.channel.allocation"].with_user(manager).create(
            [
                {
                    "company_id": company.id,
                    "grade_id": grade[code].id,
                    "line_ids": [
                        fields.Command.create({"channel_id": channel[name].id, "share": share, "sequence": index})
                        for index, (name, share) in enumerate(grade_shares.items())
                    ],
                }
                for code, grade_shares in shares.items()
            ]
        )
        # The Refurbished pricelist: a share of the new price per grade (Odoo's percentage rules).
        pricelist = env["product.pricelist"].create(
            {
                "name": "Refurbished",
                "company_id": company.id,
                "item_ids": [
                    fields.Command.create(
                        {
                            "applied_on": "3_global",
                            "compute_price": "percentage",
                            "percent_price": discount,
                            "rma_grade_id": grade[code].id,
                        }
                    )
                    for code, discount in (("a", 20.0), ("b", 35.0), ("c", 50.0))
                ],
            }
        )
        # The history's refurbished laptop (grade B) is finished: into graded stock, on sale as grade B.
        refurbished = env["rma.line"].search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "in_progress"),
                ("disposition_id.treatment", "=", "refurbish"),
                ("inspection_id.grade_id", "=", grade["b"].id),
            ]
        )
        refurbished.with_user(inspector).action_finish_refurbishment()
        laptop = env.ref("rma_recovery.demo_product_laptop")
        order = env["sale.order"].create(
            {
                "partner_id": env.ref("rma_recovery.demo_partner_northwind").id,
                "pricelist_id": pricelist.id,
                "client_order_ref": "PO-REFURB-B",
                "order_line": [
                    fields.Command.create(
                        {"product_id": laptop.id, "product_uom_qty": 1, "rma_grade_id": grade["b"].id}
                    )
                ],
            }
        )
        order.action_confirm()
        return order
