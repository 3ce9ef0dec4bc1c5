from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        result = super()._post_load_data(template_code, company, template_data)
        # self is superuser here (the chart is loaded so, by an administrator): the RMA accounts are configuration
        (company or self.env.company).with_env(self.env)._rma_setup_accounts()
        return result
