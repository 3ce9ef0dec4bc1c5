from . import test_rma_checks
from . import test_rma_authorization
from . import test_rma_security
from . import test_rma_tour
from . import test_rma_receive
from . import test_rma_custody
from . import test_rma_inspection
from . import test_rma_receipt_accounting
