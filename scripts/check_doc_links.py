"""Check that every relative link and image in the Markdown docs resolves: the file, and for a Markdown target its
#anchor (GitHub's heading slugs). Usage: python3 scripts/check_doc_links.py [repository root]"""

import pathlib
import re
import sys

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slugs(path):
    """The anchors GitHub gives the headings of ``path``."""
    found, in_code = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        text = re.sub(r"[`*_]", "", line.lstrip("#").strip().lower())
        found.add("".join(char for char in text if char.isalnum() or char in " -").replace(" ", "-"))
    return found


def main(root):
    files = [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "readme").glob("*.md"))]
    broken = checked = 0
    for doc in files:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            checked += 1
            path, _sep, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                print(f"{doc.relative_to(root)}: {target}: no such file")
                broken += 1
            elif anchor and dest.suffix == ".md" and anchor not in slugs(dest):
                print(f"{doc.relative_to(root)}: {target}: no such heading")
                broken += 1
    print(f"docs: {checked} relative links, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
