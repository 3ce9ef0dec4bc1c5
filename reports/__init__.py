from . import rma_label_report
