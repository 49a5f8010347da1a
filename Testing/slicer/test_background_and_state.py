"""Work off the GUI thread (BackgroundJob) and what the panel shows while it runs (RunState)."""

import threading
import time

import pytest

from medsynth.errors import Cancelled, InputError


def test_job_runs_in_another_thread_and_finishes_on_the_caller():
    from MedSynthLib.background import BackgroundJob

    threads = {}

    def work(progress, cancelled):
        threads["work"] = threading.current_thread()
        for step in range(1, 5):
            progress(step / 4)
        return 42

    def on_done(result):
        threads["done"] = threading.current_thread()
        return result + 1

    job = BackgroundJob(work, on_done).start()
    assert job.wait_for_completion(timeout=10) == 43
    assert threads["work"] is not threading.main_thread()
    assert threads["done"] is threading.main_thread()
    assert job.progress == 1.0
    assert job.finish() == 43  # idempotent: on_done ran once


def test_cancel_reaches_the_work_and_nothing_is_made():
    from MedSynthLib.background import BackgroundJob

    made = []
    started = threading.Event()

    def work(progress, cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.01)
        raise Cancelled("stopped")

    job = BackgroundJob(work, made.append).start()
    started.wait(5)
    job.cancel()
    with pytest.raises(Cancelled):
        job.wait_for_completion(timeout=10)
    assert job.was_cancelled and made == []


def test_worker_errors_reach_the_main_thread():
    from MedSynthLib.background import BackgroundJob

    def work(progress, cancelled):
        raise InputError("The input image is 2D")

    job = BackgroundJob(work, lambda r: r).start()
    with pytest.raises(InputError, match="2D"):
        job.wait_for_completion(timeout=10)


def test_apply_turns_into_cancel_and_back():
    from MedSynthLib.run_state import RunState

    state = RunState()
    assert not state.button_enabled and state.status_text == "Select an input volume."
    state.validate(None)
    assert (state.button_text, state.button_enabled) == ("Apply", True)
    state.start()
    assert (state.button_text, state.button_enabled, state.busy) == ("Cancel", True, True)
    state.update(0.5)
    state.update(0.4)  # progress never goes back
    assert state.progress_percent == 50 and "50 %" in state.status_text
    state.request_cancel()
    assert (state.button_text, state.button_enabled) == ("Cancelling…", False)
    state.finish(cancelled=True)
    assert state.button_text == "Apply" and "nothing was added" in state.status_text
    state.start()
    with pytest.raises(RuntimeError):
        state.start()
    state.finish(error=InputError("bad spacing"))
    assert state.status_text == "Failed: bad spacing" and state.button_enabled
