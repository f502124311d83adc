"""The dashboard's launcher (ui/server.py): the app imported before Streamlit starts, quietly."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from smarketing.ui import server

ROOT = Path(__file__).resolve().parents[2]


def test_the_preloaded_modules_are_every_ui_module_the_pages_use() -> None:
    modules = set(server.app_modules())
    assert not {"smarketing.ui.server", "smarketing.ui.page_timing"} & modules
    used = set()
    for page in [ROOT / "dashboard.py", *(ROOT / "pages").glob("*.py")]:
        for line in page.read_text().splitlines():
            if line.startswith("from smarketing.ui"):  # from smarketing.ui[.module] import a, b as c
                package, _, names = line.removeprefix("from ").partition(" import ")
                if package != "smarketing.ui":
                    used.add(package)
                    continue
                named = (f"{package}.{name.split(' as ')[0].strip()}" for name in names.split(","))
                used |= {name for name in named if importlib.util.find_spec(name) is not None}  # not setup_page
    assert {"smarketing.ui.trends_view", "smarketing.ui.loaders"} <= used <= modules


def test_preloading_imports_the_app_and_its_libraries_without_a_word() -> None:
    code = (
        "import sys; from smarketing.ui import server; server.preload(); "
        "print(sorted(m for m in ('pandas', 'plotly.graph_objects', 'sqlalchemy', 'smarketing.api', "
        "'smarketing.ui.loaders', 'smarketing.ui.review_view') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == [
        "['pandas',",
        "'plotly.graph_objects',",
        "'smarketing.api',",
        "'smarketing.ui.loaders',",
        "'smarketing.ui.review_view',",
        "'sqlalchemy']",
    ]
    assert done.stderr == ""  # not Streamlit's "No runtime found" for each cached function
