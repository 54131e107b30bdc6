"""The dashboard's start-up imports (ui/preload.py) and a script run never import at the same time."""

from __future__ import annotations

import sys
import threading
import time

from ui import preload


def test_a_script_run_waits_for_the_module_being_preloaded_and_no_longer_once_done(tmp_path,
                                                                                   monkeypatch):
    (tmp_path / "slow_module_for_preload.py").write_text(
        "import time\nSTARTED = time.monotonic()\ntime.sleep(0.5)\nFINISHED = time.monotonic()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_module_for_preload", raising=False)

    thread = preload.start(("slow_module_for_preload",), delay=0.0)
    while "slow_module_for_preload" not in sys.modules:  # the preload is inside the import
        time.sleep(0.01)
    assert not preload.finished()
    with preload.settled():
        entered = time.monotonic()
    module = sys.modules["slow_module_for_preload"]
    assert entered >= module.FINISHED  # the run started only once the import was complete
    thread.join(5)
    assert preload.finished()

    # once the preload is over, a run does not take the lock at all
    with preload._importing:
        done = threading.Event()

        def run():
            with preload.settled():
                done.set()
        threading.Thread(target=run).start()
        assert done.wait(2)


def test_a_module_that_fails_to_import_is_logged_and_the_preload_goes_on(caplog):
    thread = preload.start(("no_such_module_anywhere", "json"), delay=0.0)
    thread.join(5)
    assert preload.finished()
    assert "could not preload no_such_module_anywhere" in caplog.text
