from . import rma_label_report
from . import rma_custody_integrity_report
from . import stock_traceability
from . import rma_audit_checklist
