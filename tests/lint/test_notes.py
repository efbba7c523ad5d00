"""Notes are printed once, and grouped: one line per kind of note with the count."""

from __future__ import annotations

from renderer.lint.notes import Note, grouped


def test_ten_notes_of_one_kind_are_one_line_with_the_count() -> None:
    notes = [Note("k", "uses a feature rail skips", f"app{i}.yaml", f"HelmRelease app{i}") for i in range(10)]
    assert grouped(notes) == (
        "uses a feature rail skips: 10 times, in app0.yaml, app1.yaml, app2.yaml and 7 more; first: HelmRelease app0",
    )


def test_a_repeated_note_is_printed_once() -> None:
    note = Note("k", "message", "a.yaml", "HelmRelease a")
    assert grouped([note] * 10 + ["plain"] * 10) == ("a.yaml: HelmRelease a: message", "plain")


def test_kinds_and_plain_strings_keep_their_first_seen_order() -> None:
    notes: list[str | Note] = ["first", Note("k", "m", "a.yaml"), Note("j", "m", "b.yaml"), Note("k", "m", "c.yaml")]
    assert grouped(notes) == ("first", "m: 2 times, in a.yaml, c.yaml", "b.yaml: m")
