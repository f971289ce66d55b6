"""A page's settings live in its URL: controls read it when the page is arrived at and write it back after.

The rule (one place): when a page opens with a query string that is not the one it last wrote (a shared link, a
lecture step, the browser's back button), the link wins: every control takes the link's value, or its default
when the link does not name it; a page arrived at without a query string (the sidebar) gets back its own last
settings. A value a control cannot take is reported by name, range and unit, and the control shows its default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ..core.errors import InvalidInputError
from ..core.params import Param

EXTRA_KEYS = ("run", "present", "lecture")  # URL keys that are not controls of a page


def current_query() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


@dataclass
class PageState:
    """The URL state of one page for one run of its script (create it first, `finish` it last)."""

    page: str
    arrived: bool = False  # this run applies a link (or restores the page's last settings)
    link: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    written: dict[str, list[str]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    unused: dict[str, str] = field(default_factory=dict)  # settings of this page that do not apply now, and why

    @classmethod
    def open(cls, page: str) -> PageState:
        """The page's state for this run: an arrival applies the link (and is remembered at once, so that a run
        the arrival started and a Stop interrupted is not started again by the rerun that follows)."""
        query = current_query()
        seen = st.session_state.get(f"_url:{page}")
        if seen is not None and query == seen:  # the page's own URL: its controls keep their state, and one whose
            return cls(page, link=query)  # state another page dropped takes its value from the URL again
        if not query and seen:  # back from another page without a link: this page's own last settings
            query = seen
        st.session_state[f"_url:{page}"] = current_query()
        return cls(page, True, query)

    @property
    def run_on_arrival(self) -> bool:
        """A link with run=1 runs its page once, when it arrives; after that the page waits for its button."""
        return self.arrived and self.link.get("run") == ["1"]

    def key(self, name: str) -> str:
        return f"{self.page}:{name}"

    def start(self, name: str, default: Any, parse: Callable[[list[str]], Any], describe: str) -> str:
        """Prepare a control's session state: the link's value on arrival (checked), else what it holds, else (its
        state dropped while another page was open) the URL's value."""
        key = self.key(name)
        self.known.add(name)
        if self.arrived or key not in st.session_state:
            texts = self.link.get(name)
            value = default
            if texts:
                try:
                    value = parse(texts)
                except (InvalidInputError, ValueError, KeyError) as exc:
                    self.problems.append(
                        f"{describe}: the link's {', '.join(texts)} is not allowed ({exc}); showing {shown(default)}"
                    )
            st.session_state[key] = value
        return key

    def follow(self, basis: Any, defaults: dict[str, Any], what: str = "settings") -> None:
        """Controls whose starting values come from another choice (the protocol's budget): when that choice
        changes, they take its values again (a link arriving sets them itself)."""
        marker = self.key(f"_basis:{what}")
        if st.session_state.get(marker, basis) != basis and not self.arrived:
            for name, value in defaults.items():
                st.session_state[self.key(name)] = value
        st.session_state[marker] = basis

    def unused_here(self, names: Sequence[str], reason: str) -> None:
        """Settings this page has, but not for the current choice (ProS-GAN takes no T): a link naming them is
        told so, and still runs."""
        self.unused.update({name: reason for name in names})

    def value(self, name: str) -> Any:
        return st.session_state[self.key(name)]

    def write(self, name: str, value: Any, default: Any) -> None:
        """Mirror a control into the URL: left out at its default (links stay short) unless the URL already names
        it (a link's URL stays as it came, so arriving adds no browser history entry)."""
        if value is None or (value == default and name not in st.query_params):
            return
        self.written[name] = [str(v) for v in value] if isinstance(value, list | tuple) else [text_of(value)]

    def finish(self, extra: dict[str, str] | None = None) -> None:
        """Write the URL the page's controls now describe, and remember it as this page's own."""
        wanted = dict(self.written)
        for key in EXTRA_KEYS:
            if key in st.query_params:
                wanted[key] = st.query_params.get_all(key)
        for key, value in (extra or {}).items():
            if value is None:
                wanted.pop(key, None)
            else:
                wanted[key] = [value]
        if wanted != current_query():  # one write: one browser history entry (Back leaves in one press)
            st.query_params.from_dict({key: values if len(values) > 1 else values[0] for key, values in wanted.items()})
        st.session_state[f"_url:{self.page}"] = current_query()

    def report(self, where=None) -> bool:
        """Say what a link asked for that could not be used; True when everything was used (settings that do
        not apply to the current choice are named, and do not count)."""
        where = where or st
        stray = [k for k in self.link if k not in self.known and k not in EXTRA_KEYS] if self.arrived else []
        unused = [k for k in stray if k in self.unused]
        if unused:
            where.caption(
                "; ".join(f"{k}={','.join(self.link[k])} is not used: {self.unused[k]}" for k in unused) + "."
            )
        stray = [k for k in stray if k not in self.unused]
        lines = self.problems + [f"{k}={','.join(self.link[k])} is not a setting of this page" for k in stray]
        if lines:
            where.warning(
                "This link asked for settings the page cannot use, so some controls show other values: "
                + "; ".join(lines)
                + ". Nothing runs by itself; check the controls and press the run button."
            )
        return not lines


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def shown(value: Any) -> str:
    return "the default" if value is None else text_of(value)


def parse_param(param: Param) -> Callable[[list[str]], Any]:
    """URL text -> the Param's checked value (its message names the range and the unit)."""
    return lambda texts: param.check(texts[-1])


def parse_option(options: Sequence, to_text: Callable[[Any], str] = str) -> Callable[[list[str]], Any]:
    by_text = {to_text(o): o for o in options}

    def parse(texts: list[str]) -> Any:
        if texts[-1] not in by_text:
            raise KeyError(f"choose one of {', '.join(by_text)}")
        return by_text[texts[-1]]

    return parse


def parse_options(options: Sequence[str]) -> Callable[[list[str]], list[str]]:
    def parse(texts: list[str]) -> list[str]:
        bad = [t for t in texts if t not in options]
        if bad:
            raise KeyError(f"{', '.join(bad)} not among {', '.join(options)}")
        return list(dict.fromkeys(texts))

    return parse


def url_selectbox(state: PageState, container, label: str, options: list, name: str, default=None, **kwargs):
    """A selectbox mirrored into the URL as ?name=<option>; when the options change under a choice (another
    dataset has other models), the choice moves to the default and a caption says so."""
    fallback = default if default in options else options[0]
    key = state.start(name, fallback, parse_option(options), f"{label} ({name})")
    if st.session_state[key] not in options:
        container.caption(f"{label} {st.session_state[key]} is not available here: showing {fallback}.")
        st.session_state[key] = fallback
    value = container.selectbox(label, options, key=key, **kwargs)
    state.write(name, value, default)
    return value


def url_multiselect(
    state: PageState, container, label: str, options: list[str], name: str, default: list[str], **kwargs
) -> list[str]:
    """A multiselect mirrored into the URL as repeated ?name=a&name=b."""
    key = state.start(name, [d for d in default if d in options], parse_options(options), f"{label} ({name})")
    st.session_state[key] = [v for v in st.session_state[key] if v in options]
    value = container.multiselect(label, options, key=key, **kwargs)
    state.write(name, value, default)
    return value
