import json
import os
import re
import subprocess
import tempfile

from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

API_DOC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs", "API.md")
# docs/API.md: each example is a ```sh block after a <!-- example: name --> comment.
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```sh\n(.*?)```", re.DOTALL)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def doc_examples():
    with open(API_DOC, encoding="utf-8") as doc:
        return dict(EXAMPLE.findall(doc.read()))


class ApiExamplesMixin:
    """Runs docs/API.md's curl examples as written, against the test server (an HttpCase), with ``self.api_key``."""

    def setUp(self):
        super().setUp()
        self.examples = doc_examples()
        self.workdir = tempfile.mkdtemp()
        with open(os.path.join(self.workdir, "invoice.pdf"), "wb") as invoice:
            invoice.write(PDF)

    def _run_example(self, name, **variables):
        """Run docs/API.md's example ``name`` with bash and curl, as written: (HTTP status, JSON answer). The test
        server serves only requests carrying the test's cookie: curl reads it from its own configuration file."""
        environment = {
            "PATH": os.environ["PATH"],
            "CURL_HOME": self.workdir,
            "ODOO_URL": self.base_url(),
            "ODOO_DB": self.env.cr.dbname,
            "ODOO_API_KEY": self.api_key,
            **{key: str(value) for key, value in variables.items()},
        }
        self.env.flush_all()  # the server's request reads the database
        with self.allow_requests():
            with open(os.path.join(self.workdir, ".curlrc"), "w", encoding="utf-8") as curlrc:
                curlrc.write(f'cookie = "{TEST_CURSOR_COOKIE_NAME}={self.http_request_key}"\n')
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", self.examples[name]],
                cwd=self.workdir,
                env=environment,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        self.env.invalidate_all()
        self.assertEqual(result.returncode, 0, result.stderr)
        head, _separator, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
        try:
            return int(head.split()[1]), json.loads(body)
        except (ValueError, IndexError):
            self.fail(f"{name}: not an HTTP answer with a JSON body:\n{result.stdout}\n{result.stderr}")
