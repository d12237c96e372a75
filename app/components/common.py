"""Building blocks every view uses: semantics-labelled controls with 48 px
touch targets, headings, cards, banners, empty states and the two-pane layout."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flet as ft

from app import theme
from app.theme import TOUCH, fs


def sem(identifier: str, control: ft.Control, label: str | None = None, **kw: Any) -> ft.Semantics:
    """Wrap a control so assistive tech and tests find it by a stable identifier."""
    return ft.Semantics(identifier=identifier, label=label, content=control, **kw)


def primary(text: str, identifier: str, on_click: Callable | None = None, icon: ft.IconData | None = None,
            disabled: bool = False, expand: bool | int | None = None) -> ft.Semantics:
    btn = ft.FilledButton(content=text, icon=icon, on_click=on_click, height=TOUCH + 4, disabled=disabled,
                          style=theme.button_style(), expand=expand)
    return sem(identifier, btn, button=True)


def secondary(text: str, identifier: str, on_click: Callable | None = None, icon: ft.IconData | None = None,
              disabled: bool = False, expand: bool | int | None = None) -> ft.Semantics:
    btn = ft.OutlinedButton(content=text, icon=icon, on_click=on_click, height=TOUCH + 4, disabled=disabled,
                            style=theme.button_style(), expand=expand)
    return sem(identifier, btn, button=True)


def tonal(text: str, identifier: str, on_click: Callable | None = None, icon: ft.IconData | None = None,
          disabled: bool = False, expand: bool | int | None = None, bgcolor: str | None = None,
          color: str | None = None) -> ft.Semantics:
    style = theme.button_style()
    if bgcolor:
        style.bgcolor = bgcolor
    if color:
        style.color = color
        style.icon_color = color
    btn = ft.FilledTonalButton(content=text, icon=icon, on_click=on_click, height=TOUCH + 4, disabled=disabled,
                               style=style, expand=expand)
    return sem(identifier, btn, button=True)


def icon_button(icon: ft.IconData, identifier: str, tooltip: str, on_click: Callable | None = None,
                selected: bool = False) -> ft.Semantics:
    btn = ft.IconButton(icon=icon, tooltip=tooltip, on_click=on_click, selected=selected,
                        style=ft.ButtonStyle(padding=ft.Padding.all(12)), icon_size=26)
    return sem(identifier, btn, label=tooltip, button=True)


def heading(text: str, size: float = 22) -> ft.Text:
    return ft.Text(text, size=fs(size), weight=ft.FontWeight.W_700)


def subheading(text: str) -> ft.Text:
    return ft.Text(text, size=fs(16), weight=ft.FontWeight.W_600, color=ft.Colors.ON_SURFACE_VARIANT)


def body(text: str, *, size: float = 15, color: str | None = None, selectable: bool = False,
         weight: ft.FontWeight | None = None, italic: bool = False) -> ft.Text:
    return ft.Text(text, size=fs(size), color=color, selectable=selectable, weight=weight, italic=italic)


def muted(text: str, size: float = 13) -> ft.Text:
    return ft.Text(text, size=fs(size), color=ft.Colors.ON_SURFACE_VARIANT)


def card(content: ft.Control, *, padding: int = 16, on_click: Callable | None = None,
         bgcolor: str | None = None, border_color: str | None = None) -> ft.Container:
    return ft.Container(
        content=content,
        padding=padding,
        border_radius=14,
        bgcolor=bgcolor or ft.Colors.SURFACE_CONTAINER_LOW,
        border=ft.Border.all(1, border_color or ft.Colors.OUTLINE_VARIANT),
        on_click=on_click,
        ink=on_click is not None,
    )


def banner(text: str, *, kind: str = "info", icon: ft.IconData | None = None, identifier: str | None = None,
           title: str | None = None, controls: Sequence[ft.Control] = ()) -> ft.Control:
    """A coloured strip: kind is info, warning (safety), critical or ok."""
    colours = {
        "info": (theme.INFO_BG, theme.INFO_FG, ft.Icons.INFO_OUTLINE),
        "warning": (theme.SAFETY_BG, theme.SAFETY_FG, ft.Icons.WARNING_AMBER_ROUNDED),
        "critical": (theme.CRITICAL_BG, theme.CRITICAL_FG, ft.Icons.REPORT_ROUNDED),
        "ok": (theme.OK_BG, theme.OK_FG, ft.Icons.CHECK_CIRCLE_OUTLINE),
    }
    bg, fg, default_icon = colours.get(kind, colours["info"])
    lines: list[ft.Control] = []
    if title:
        lines.append(ft.Text(title, size=fs(15), weight=ft.FontWeight.W_700, color=fg))
    if text:
        lines.append(ft.Text(text, size=fs(14), color=fg))
    lines.extend(controls)
    box = ft.Container(
        content=ft.Row(
            [ft.Icon(icon or default_icon, color=fg, size=26),
             ft.Column(lines, spacing=4, expand=True, tight=True)],
            vertical_alignment=ft.CrossAxisAlignment.START,
            spacing=12,
        ),
        bgcolor=bg,
        border_radius=12,
        padding=ft.Padding.symmetric(horizontal=16, vertical=12),
    )
    return sem(identifier, box) if identifier else box


def empty_state(icon: ft.IconData, title: str, text: str = "", action: ft.Control | None = None) -> ft.Control:
    items: list[ft.Control] = [
        ft.Icon(icon, size=48, color=ft.Colors.OUTLINE),
        ft.Text(title, size=fs(17), weight=ft.FontWeight.W_600, text_align=ft.TextAlign.CENTER),
    ]
    if text:
        items.append(ft.Text(text, size=fs(14), color=ft.Colors.ON_SURFACE_VARIANT, text_align=ft.TextAlign.CENTER))
    if action is not None:
        items.append(action)
    return ft.Container(
        content=ft.Column(items, horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=10, tight=True),
        padding=32,
        alignment=ft.Alignment.CENTER,
    )


def pill(text: str, *, bgcolor: str, color: str, icon: ft.IconData | None = None, size: float = 13) -> ft.Container:
    row: list[ft.Control] = []
    if icon:
        row.append(ft.Icon(icon, size=fs(size + 3), color=color))
    row.append(ft.Text(text, size=fs(size), color=color, weight=ft.FontWeight.W_600))
    return ft.Container(
        content=ft.Row(row, spacing=6, tight=True),
        bgcolor=bgcolor,
        border_radius=20,
        padding=ft.Padding.symmetric(horizontal=12, vertical=6),
    )


def text_field(identifier: str, label: str, *, value: str = "", hint: str = "", multiline: bool = False,
               password: bool = False, on_submit: Callable | None = None, on_change: Callable | None = None,
               expand: bool | int | None = None, prefix_icon: ft.IconData | None = None,
               keyboard: ft.KeyboardType | None = None) -> tuple[ft.TextField, ft.Semantics]:
    """A text field and its semantics wrapper; keep the field to read its value.

    A change handler is always set so the browser sends the value as it is typed: without
    one, a tap on a button right after typing can reach the server before the value."""
    if on_change is None:
        on_change = _keep_value
    field = ft.TextField(
        label=label, value=value, hint_text=hint or None, multiline=multiline, min_lines=3 if multiline else None,
        max_lines=6 if multiline else 1, password=password, can_reveal_password=False, on_submit=on_submit,
        on_change=on_change, text_size=fs(16), border_radius=10, prefix_icon=prefix_icon,
        keyboard_type=keyboard, content_padding=ft.Padding.symmetric(horizontal=14, vertical=16),
    )
    return field, ft.Semantics(identifier=identifier, content=field, expand=expand)


def _keep_value(e: ft.ControlEvent) -> None:
    """No-op change handler: its presence makes the client send each edit."""


def scroll_column(controls: Sequence[ft.Control], *, spacing: int = 14, padding: int = 20,
                  expand: bool | int = True) -> ft.Container:
    return ft.Container(
        content=ft.Column(list(controls), spacing=spacing, scroll=ft.ScrollMode.AUTO, expand=True,
                          horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
        padding=padding,
        expand=expand,
    )


class PaneFrame:
    """Persistent scroll columns for one view, so re-rendering keeps the scroll position:
    only the columns' children change between renders.

    Both layouts (two panes, one column) stay mounted and only their visibility changes:
    Flet diffs a control that was detached and re-attached against what it last sent,
    so a subtree changed while detached would reach the browser as a broken patch."""

    def __init__(self, left_flex: int = 5, right_flex: int = 6) -> None:
        stretch = ft.CrossAxisAlignment.STRETCH
        self.left = ft.Column(spacing=14, scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=stretch)
        self.right = ft.Column(spacing=14, scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=stretch)
        self.single = ft.Column(spacing=14, scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=stretch)
        self.pinned = ft.Container(visible=False)  # stays in view above the right pane (or the one column)
        self.wide_root = ft.Row(
            [ft.Container(self.left, padding=20, expand=left_flex), ft.VerticalDivider(width=1),
             ft.Container(ft.Column([self.pinned, ft.Container(self.right, expand=True)], spacing=0, expand=True,
                                    horizontal_alignment=stretch), padding=20, expand=right_flex)],
            expand=True, spacing=0, vertical_alignment=ft.CrossAxisAlignment.STRETCH,
        )
        self.pinned_narrow = ft.Container(visible=False)
        self.narrow_root = ft.Container(ft.Column([self.pinned_narrow, ft.Container(self.single, expand=True)],
                                                  spacing=0, expand=True, horizontal_alignment=stretch),
                                        padding=14, expand=True, visible=False)
        self.root = ft.Column([self.wide_root, self.narrow_root], spacing=0, expand=True,
                              horizontal_alignment=stretch)

    def show(self, wide: bool) -> ft.Control:
        self.wide_root.visible = wide
        self.narrow_root.visible = not wide
        return self.root


def panes(left: Sequence[ft.Control], right: Sequence[ft.Control], wide: bool, *,
          frame: PaneFrame | None = None, pinned: ft.Control | None = None) -> ft.Control:
    """Two scrolling panes side by side on a landscape tablet; one scrolling column
    (left content first) on a phone. `pinned` stays in view above the right pane (tablet)
    or above the column (phone) while the rest scrolls."""
    frame = frame or PaneFrame()
    frame.pinned.content = pinned if wide else None
    frame.pinned.visible = wide and pinned is not None
    frame.pinned_narrow.content = None if wide else pinned
    frame.pinned_narrow.visible = not wide and pinned is not None
    if wide:
        frame.single.controls = []
        frame.left.controls = list(left)
        frame.right.controls = list(right)
    else:
        frame.left.controls = []
        frame.right.controls = []
        frame.single.controls = [*left, ft.Divider(height=1), *right]
    return frame.show(wide)


def switch(identifier: str, control: ft.Switch) -> ft.Semantics:
    """A switch whose label grows with large text and wraps instead of being cut, with the whole
    row (at least 56 px tall) as its touch target."""
    label = control.label if isinstance(control.label, str) else (control.data or "")
    control.data = label  # keep the words across re-renders (the label moves into the row)
    control.label = None

    def toggle(e: Any) -> None:
        control.value = not bool(control.value)
        control.update()
        if control.on_change is not None:
            result = control.on_change(_SwitchEvent(control))
            if hasattr(result, "__await__") and control.page is not None:
                async def _await() -> None:
                    await result

                control.page.run_task(_await)

    row = ft.Container(
        ft.Row([control, ft.Text(label, size=fs(16), expand=True)], spacing=10,
               vertical_alignment=ft.CrossAxisAlignment.CENTER),
        padding=ft.Padding.symmetric(vertical=8, horizontal=4), border_radius=10, ink=True, on_click=toggle,
    )
    return sem(identifier, row, label=label, toggled=bool(control.value))


class _SwitchEvent:
    """What a switch's change handler reads (`e.control.value`) when the row is tapped."""

    def __init__(self, control: ft.Switch) -> None:
        self.control = control
