"""Proposals as the reviewer sees them: the diff against the disk, finding one by name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tmuxclaude.errors import TclaudeError
from tmuxclaude.review import NotShown, Proposal, edit_text, find, proposals


def _proposal(path: Path, contents: str, tab: str = "tab") -> Proposal:
    found = Proposal.from_json(
        {
            "tab_name": tab,
            "old_file_path": str(path),
            "new_file_path": str(path),
            "new_file_contents": contents,
            "age": 3,
            "changed_on_disk": False,
        }
    )
    assert found is not None
    return found


def test_diff_marks_a_missing_final_newline_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("one\ntwo")
    proposal = _proposal(path, "one\ntwo\nthree\n")
    assert proposal.unified_diff(str(tmp_path)) == (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,3 @@\n one\n-two\n\\ No newline at end of file\n"
        "+two\n+three\n"
    )
    assert proposal.counts() == (2, 1)
    dashes = _proposal(path, "--- one\n+++ two\n")  # lines that look like diff headers
    assert dashes.counts() == (2, 2)
    same = _proposal(path, "one\ntwo")
    assert same.unified_diff(str(tmp_path)) == "(no change to a.txt)\n"


def test_the_host_list_is_checked_and_found_by_tab_or_path(tmp_path: Path) -> None:
    a = _proposal(tmp_path / "a.py", "x\n", "tab-a")
    listed = proposals(
        {
            "diffs": [
                {"tab_name": "tab-a", "new_file_path": str(tmp_path / "a.py"),
                 "new_file_contents": "x\n"},
                {"tab_name": 1, "new_file_path": "/x", "new_file_contents": ""},
                "junk",
            ]
        }
    )  # fmt: skip
    assert [p.tab_name for p in listed] == ["tab-a"]
    assert find([a], "tab-a", str(tmp_path)) is a
    assert find([a], "a.py", str(tmp_path)) is a
    assert find([a], str(tmp_path / "a.py"), "/") is a
    with pytest.raises(TclaudeError, match=r"no pending diff for b\.py \(pending: a\.py\)"):
        find([a], "b.py", str(tmp_path))
    assert proposals({"diffs": None}) == [] and proposals("junk") == []


@pytest.mark.parametrize("name", ["..", ".", "", "/"])
def test_edit_text_names_the_file_safely(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", "sed -i s/a/b/")
    assert edit_text("a\n", name) == "b\n"
    monkeypatch.setenv("VISUAL", "false")
    assert edit_text("a\n", name) is None


def test_a_fifo_or_a_huge_file_is_not_read(tmp_path: Path) -> None:
    """The read would block (a FIFO with no writer) or take all memory: not shown."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    huge = tmp_path / "huge"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)  # sparse: costs no disk
    for path, why in ((fifo, "not a regular file"), (huge, "larger than 64 MB")):
        proposal = _proposal(path, "x\n")
        assert proposal.not_shown() == f"{why}: not shown"
        assert proposal.counts() == (0, 0)
        assert proposal.unified_diff(str(tmp_path)) == f"({path.name}: {why}: not shown)\n"
        with pytest.raises(NotShown):
            proposal.on_disk()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    (tmp_path / "real").write_text("kept\n")
    assert _proposal(link, "x\n").on_disk() == "kept\n"  # a symlink is followed
    assert _proposal(link, "x\n").not_shown() is None
