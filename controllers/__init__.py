from . import rma_kpi_report
from . import portal
