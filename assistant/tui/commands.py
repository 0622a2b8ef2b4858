"""The command palette's knowledge-base search: the same :mod:`kb.search` as ``lossdoctor
search``; choosing a hit opens the entry in the entry pane."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message

#: Hits listed for one query.
HITS = 12


@dataclass
class EntryRequested(Message):
    """Show an entry in the entry pane."""

    entry_id: str
    """The entry to show."""


class KnowledgeBaseCommands(Provider):
    """Searches the knowledge base the app's interview uses."""

    def _searcher(self):  # type: ignore[no-untyped-def]
        interview = getattr(self.app, "interview", None)
        return None if interview is None else interview.searcher

    def _open(self, entry_id: str) -> None:
        self.screen.post_message(EntryRequested(entry_id))

    async def search(self, query: str) -> Hits:
        """Ranked entries for ``query``."""
        searcher = self._searcher()
        if searcher is None or not query.strip():
            return
        from kb.search import QueryError

        try:
            hits = searcher.search(query, HITS)
        except QueryError:
            return
        for hit in hits:
            display = Text.assemble((f"{hit.kind:<7} ", "dim"), hit.title, (f"  {hit.id}", "dim"))
            yield Hit(
                hit.score,
                display,
                partial(self._open, hit.id),
                text=f"{hit.title} {hit.id}",
                help="; ".join(hit.why[:2]) or None,
            )

    async def discover(self) -> Hits:
        """Every symptom, to browse before typing."""
        interview = getattr(self.app, "interview", None)
        if interview is None:
            return
        for symptom in interview.kb.of_kind("symptom"):
            display = Text.assemble(("symptom ", "dim"), symptom.title, (f"  {symptom.id}", "dim"))
            yield DiscoveryHit(
                display, partial(self._open, symptom.id), text=f"{symptom.title} {symptom.id}"
            )
