from odoo.exceptions import AccessError

WORKFLOW_CONTEXT = "rma_workflow"


def ensure_workflow_fields(records, field_names):
    """Fields that record a decision or a physical event (state, number, override, receipt) are only written by
    the RMA actions, which pass WORKFLOW_CONTEXT: not by a plain write, whatever the user's access rights."""
    touched = set(field_names) & set(records._workflow_fields)
    if touched and not records.env.context.get(WORKFLOW_CONTEXT) and not records.env.su:
        raise AccessError(
            records.env._(
                "%(fields)s of %(model)s change only through the RMA's actions (authorize, reject, receive...).",
                fields=", ".join(sorted(touched)),
                model=records._description,
            )
        )
