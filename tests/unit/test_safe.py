"""Untrusted text is shown literally: no escape sequence reaches the terminal."""

from assistant.safe import plain


def test_escape_sequences_and_controls_are_made_visible() -> None:
    shown = plain("a\x1b[31mred\x1b]8;;http://x\x07link\x07\x00\r")
    assert "\x1b" not in shown and "\x07" not in shown and "\x00" not in shown and "\r" not in shown
    assert "\\x1b[31m" in shown


def test_rich_markup_and_unicode_are_left_as_they_are() -> None:
    assert plain("[bold]x[/bold] 验证集 loss") == "[bold]x[/bold] 验证集 loss"


def test_undecodable_bytes_do_not_break_printing() -> None:
    shown = plain("bad \udc80 byte")
    shown.encode("utf-8")
    assert "\\udc80" in shown
