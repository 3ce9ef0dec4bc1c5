from . import rma_kpi_report
