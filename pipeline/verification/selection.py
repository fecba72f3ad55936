"""Which of the broker's pacts this build verifies, written once: the body of the broker API call."""

from __future__ import annotations

from attrs import frozen

from pipeline.settings import Settings


@frozen
class Selector:
    """A consumer-version selector: its key in the broker's API."""

    key: str
    needs_provider_branch: bool = False


# The consumers' main branches, what is deployed or released, and the consumer branch named like this provider's.
SELECTORS = (
    Selector("mainBranch"),
    Selector("deployedOrReleased"),
    Selector("matchingBranch", needs_provider_branch=True),
)


@frozen
class Selection:
    """The broker's selection for one build: its selectors and branch; pending and WIP pacts included."""

    selectors: tuple[Selector, ...]
    provider_branch: str | None
    include_wip_since: str

    def body(self) -> dict[str, object]:
        """The selection as the body of the broker's pacts-for-verification call."""
        body: dict[str, object] = {"consumerVersionSelectors": [{selector.key: True} for selector in self.selectors]}
        if self.provider_branch:
            body["providerVersionBranch"] = self.provider_branch
        return body | {"includePendingStatus": True, "includeWipPactsSince": self.include_wip_since}


def selection(settings: Settings) -> Selection:
    """The selection for this build: a selector that needs the provider's branch only when it is known."""
    branch = settings.provider_branch
    chosen = tuple(selector for selector in SELECTORS if branch or not selector.needs_provider_branch)
    return Selection(selectors=chosen, provider_branch=branch, include_wip_since=settings.include_wip_since)
