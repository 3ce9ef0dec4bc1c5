from . import rma_label_report
from . import rma_custody_integrity_report
from . import stock_traceability
from . import rma_audit_checklist
from . import rma_kpi_unit
from . import rma_kpi_return_rate
from . import rma_kpi_report
from . import rma_kpi_failure
