"""The README's Quickstart and docs/installation.rst set a project up the same way."""

from pathlib import Path

from tests.fresh_project.run import INSTALLATION, documented_blocks

README = Path(__file__).resolve().parents[1] / "README.rst"


def test_installation_blocks_name_their_files():
    files = [name for name, _ in documented_blocks(INSTALLATION.read_text())]
    assert files == ["settings.py", "urls.py", "views.py", "urls.py", "settings.py", "urls.py"]


def test_readme_quickstart_repeats_the_installation_blocks():
    readme = README.read_text()
    quickstart = readme[readme.index("\nQuickstart\n") : readme.index("\nTry it\n")]
    assert documented_blocks(quickstart) == documented_blocks(INSTALLATION.read_text())
