"""Views without a browser: the shell runs headless (page=None), views are
built as control trees and their handlers awaited directly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import flet as ft

from app.shell import NAV, Shell
from app.state import ServiceHost
from assistant.domain import StepStatus


def _ids(control: object, out: set[str] | None = None) -> set[str]:
    """Every semantics identifier in the visible part of a control tree."""
    out = set() if out is None else out
    if isinstance(control, ft.Control) and control.visible is False:
        return out
    if isinstance(control, ft.Semantics) and control.identifier:
        out.add(control.identifier)
    for name in ("content", "controls", "actions", "title"):
        child = getattr(control, name, None)
        if isinstance(child, list):
            for c in child:
                _ids(c, out)
        elif isinstance(child, ft.Control):
            _ids(child, out)
    return out


def test_every_screen_builds_with_labelled_navigation(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)

    async def visit() -> None:
        for key, *_ in NAV:
            await shell.go(key)
            ids = _ids(shell.layout())
            assert f"nav-{key}" in ids and "provider-status" in ids

    asyncio.run(visit())
    assert not [m for m in shell.messages if m[0] == "error"], shell.messages


def test_narrow_layout_is_one_column_with_bottom_navigation(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)
    shell.width = 400
    asyncio.run(shell.go("home"))
    root = shell.layout()
    assert not shell.wide
    ids = _ids(root)
    bar = {i for i in ids if i.startswith("nav-")}
    assert bar == {"nav-home", "nav-capture", "nav-answer", "nav-sessions", "nav-more"}, bar
    assert shell.bar_slot.visible and not shell.rail_slot.visible

    asyncio.run(shell.open_more())
    assert {"nav-library", "nav-review", "nav-settings", "nav-more"} <= _ids(shell.layout())
    asyncio.run(shell.go("settings"))
    assert "screen-title" in _ids(shell.layout())


def test_every_view_stays_mounted_so_a_second_visit_patches_cleanly(seeded_host: ServiceHost) -> None:
    """Flet diffs a re-attached subtree against what it last sent: views are shown and hidden,
    never detached, so the tree always holds every view's slot and only one is visible."""
    shell = Shell(None, seeded_host)

    async def visit() -> None:
        for key in ("home", "capture", "answer", "sessions", "capture", "answer"):
            await shell.go(key)
            shell.layout()
            assert list(shell.body.controls) == list(shell.view_slots.values())
            assert [k for k, slot in shell.view_slots.items() if slot.visible] == [key]

    asyncio.run(visit())


def test_technician_flow_through_handlers(seeded_host: ServiceHost, photos: Path) -> None:
    shell = Shell(None, seeded_host)
    home, capture, answer = shell.views["home"], shell.views["capture"], shell.views["answer"]

    async def flow() -> None:
        await shell.go("home")
        assert "equipment-vfd-vx500" in _ids(shell.layout())
        await home.pick("vfd-vx500")
        assert shell.current == "capture" and shell.state.equipment.id == "vfd-vx500"
        ok = await capture.add((photos / "vfd-vx500-display-f004.jpg").read_bytes(), "d.jpg")
        assert ok
        ids = _ids(shell.layout())
        assert {"photo-1", "photo-1-reading-0", "annotated-photo", "reading-0-confirm"} <= ids
        await capture.confirm(shell.state.photo_observations(capture.selected)[0][0])

        await shell.go("answer")
        answer.ask_field.value = ""
        await answer.submit()
        assert shell.messages[-1] == ("error", "Type a question or describe the symptom first.")
        answer.ask_field.value = "Drive trips on acceleration"
        await answer.submit()
        ids = _ids(shell.layout())
        assert {"step-1", "step-1-cite-0", "step-1-done", "answer-question", "answer-top-code",
                "answer-top-confidence", "answer-top-unsure"} <= ids
        turn = shell.state.turns()[-1]

        # the cited page opens beside the steps, then the steps come back
        await answer.cite(turn, 1, 0)
        ids = _ids(shell.layout())
        assert {"page-viewer", "source-close", "step-1"} <= ids and "ask-input" not in ids
        await answer.close_source()
        assert "ask-input" in _ids(shell.layout())

        # a note is saved with its own button, before any status
        await answer.toggle_note(turn.id, 2)
        answer.note_field.value = "ramp 2 s"
        await answer.save_note(turn.id, 2)
        assert shell.state.session.notes[-1].text == "Step 2: ramp 2 s"

        # one step at a time: a status moves on to the next unticked step
        await answer.set_step_mode(True)
        ids = _ids(shell.layout())
        assert "step-1" in ids and "step-2" not in ids and "step-next" in ids
        await answer.toggle_note(turn.id, 1)
        answer.note_field.value = "checked"
        await answer.set_status(turn.id, 1, StepStatus.DONE)
        assert shell.state.outcome_for(turn.id, 1).note == "checked"
        assert answer.current_step[turn.id] == 2 and "step-2-done" in _ids(shell.layout())
        await answer.set_step_mode(False)
        assert "step-1-status" in _ids(shell.layout())
        from assistant.domain import Outcome

        # closing with unticked steps lists them and waits for a confirmation
        await answer.close_session(Outcome.ESCALATED)
        ids = _ids(shell.layout())
        assert "session-closed" not in ids and {"close-unticked", "close-confirm"} <= ids
        assert not shell.state.is_closed
        await answer.confirm_close()
        assert "session-closed" in _ids(shell.layout())

    asyncio.run(flow())


def test_settings_error_shown_and_nothing_saved(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)
    view = shell.views["settings"]

    async def run() -> None:
        await shell.go("settings")
        before = seeded_host.fl.settings.base_url
        view.url_field.value = "not a url"
        await view.save()
        assert "settings-error" in _ids(shell.layout())
        assert shell.messages[-1][0] == "error" and "http" in shell.messages[-1][1]
        assert seeded_host.fl.settings.base_url == before
        view.url_field.value = ""
        view.side_field.value = "big"
        await view.save()
        assert "whole number" in shell.messages[-1][1]

    asyncio.run(run())


def test_library_search_and_review_dashboard(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)
    lib, review = shell.views["library"], shell.views["review"]

    async def run() -> None:
        await shell.go("library")
        lib.search_field.value = "overcurrent"
        await lib.search()
        assert shell.state.lib_hits and "search-hit-0" in _ids(shell.layout())
        await lib.clear_search()
        await lib.show_equipment("pump-cp40")
        await lib.open_doc(shell.state.lib_documents[0].id)
        assert "section-0" in _ids(shell.layout()) or "procedure-view" in _ids(shell.layout())
        await shell.go("review")
        assert isinstance(review.dash, dict)

    asyncio.run(run())


def test_library_sync_from_a_local_feed_shows_progress_and_report(seeded_host: ServiceHost, tmp_path: Path) -> None:
    import hashlib
    import http.server
    import json
    import threading
    from functools import partial

    doc = tmp_path / "pump-note.md"
    doc.write_text("# Pump bulletin\n\n## Impeller check\n\nCheck the impeller clearance every 2000 hours.\n")
    feed = {"documents": [{"url": "pump-note.md", "title": "Pump bulletin 7", "equipment": ["pump-cp40"],
                           "sha256": hashlib.sha256(doc.read_bytes()).hexdigest(), "version": "1"}]}
    (tmp_path / "feed.json").write_text(json.dumps(feed))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shell = Shell(None, seeded_host)
    lib = shell.views["library"]
    seen: list[tuple[float | None, str]] = []
    original = lib._progress

    def record(p: object) -> None:
        original(p)
        seen.append((shell.state.sync_fraction, shell.state.sync_message))

    lib._progress = record  # type: ignore[method-assign]

    async def run() -> None:
        await shell.go("library")
        lib.sync_field.value = "ftp://nope"
        await lib.sync()
        assert shell.messages[-1][0] == "error" and "http" in shell.messages[-1][1]
        lib.sync_field.value = f"http://127.0.0.1:{server.server_address[1]}/feed.json"
        await lib.sync()
        await asyncio.sleep(0.05)  # progress callbacks hop back to the loop

    try:
        asyncio.run(run())
    finally:
        server.shutdown()
    assert lib.sync_report.startswith("Library synced") and "1 added" in lib.sync_report, lib.sync_report
    assert seen and all(f is None or 0.0 <= f <= 1.0 for f, _ in seen)
    assert "sync-progress" in _ids(shell.layout())
    titles = [d.title for d in seeded_host.call(seeded_host.fl.list_documents, "pump-cp40")]
    assert "Pump bulletin 7" in titles


def test_abstention_is_shown_as_such_and_notes_are_saved(seeded_host: ServiceHost) -> None:
    shell = Shell(None, seeded_host)
    answer = shell.views["answer"]

    async def run() -> None:
        await shell.go("answer")
        answer.ask_field.value = "What is the best recipe for sourdough bread?"
        await answer.submit()
        turn = shell.state.turns()[-1]
        assert turn.answer is not None and turn.answer.abstained
        ids = _ids(shell.layout())
        assert "answer-abstained" in ids and "step-1" not in ids
        answer.session_note_field.value = "Customer asked about bread"
        await answer.add_session_note()
        assert shell.state.session.notes[-1].text == "Customer asked about bread"
        answer.session_note_field.value = "  "
        await answer.add_session_note()
        assert shell.messages[-1][0] == "error"

    asyncio.run(run())


def test_review_desk_names_sessions_keeps_ratings_and_pins_the_verdict(seeded_host: ServiceHost) -> None:
    from assistant.domain import StepRating, Verdict

    shell = Shell(None, seeded_host)
    review = shell.views["review"]
    fl = seeded_host.fl
    sid = seeded_host.call(lambda: fl.start_session("vfd-vx500").id)
    seeded_host.call(lambda: fl.ask("Drive trips on acceleration, F004", session_id=sid))

    async def run() -> None:
        await shell.go("review")
        assert "dashboard" in _ids(shell.layout())  # the dashboard has the right pane's room
        assert "equipment" not in review.dash["per_equipment"] and "" not in review.dash["per_equipment"]
        assert "Variable-frequency drive VX-500, 7.5-22 kW" in review.dash["per_equipment"]
        row = next(i for i, s in enumerate(shell.state.summaries) if s.id == sid)
        await review.open(sid)
        assert review.frame.pinned.visible and "verdict-bar" in _ids(review.frame.pinned)
        turn = review.detail.turns[-1]
        await review.rate(turn.id, 1, StepRating.BAD)
        await review.set_verdict(Verdict.NEEDS_FOLLOW_UP)
        await review.submit()
        assert review.ratings[(turn.id, 1)] == StepRating.BAD  # still shown after saving
        assert review.verdict == Verdict.NEEDS_FOLLOW_UP
        await review.open(shell.state.summaries[row].id)
        assert review.ratings.get((turn.id, 1)) == StepRating.BAD  # and after opening it again
        assert "rate-1-bad" in _ids(shell.layout())

    asyncio.run(run())


def test_a_dangerous_step_shows_its_warning_before_the_step() -> None:
    from app.components.step_card import step_card
    from assistant.domain import Confidence, Step

    plain = Step(index=1, action="Check the fan", confidence=Confidence.MEDIUM)
    dangerous = Step(index=2, action="Bypass the door interlock", confidence=Confidence.LOW,
                     danger="This step would defeat a safety function: the door interlock.")
    kwargs = dict(outcome=None, on_cite=None, on_status=None, on_note=None)
    assert "step-1-danger" not in _ids(step_card(plain, "step-1", **kwargs))
    card = step_card(dangerous, "step-2", **kwargs)
    assert "step-2-danger" in _ids(card)
