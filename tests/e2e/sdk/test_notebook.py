"""``examples/notebook.ipynb`` runs top to bottom in a python3 kernel, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[3] / "examples" / "notebook.ipynb"


@pytest.mark.timeout(600)
def test_notebook_executes(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel's matplotlib backend is ipykernel's inline one (headless); its working directory is tmp_path.
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "published_posts: 180 read, 180 inserted" in text
    # The notebook extra brings ipywidgets: tqdm.auto draws a widget, not a warning and a text bar.
    assert "TqdmWarning" not in text
    assert "IProgress not found" not in text
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs if o.output_type == "display_data")
