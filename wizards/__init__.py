from . import rma_wizard_mixin
from . import rma_reject_wizard
from . import rma_override_wizard
from . import rma_disposition_wizard
from . import rma_remedy_wizard
from . import rma_harvest_wizard
from . import rma_unblock_wizard
