"""A Pact Broker test double that the real Pact clients can talk to.

It serves the part of the Pact Broker HAL API that pact-python's verifier (Rust core)
and the `pact broker` CLI use: the index, pacts for verification with consumer version
selectors, pending and WIP pacts, pact documents, verification results, pacticipants,
branches, versions and tags, the can-i-deploy matrix for environments, environments and
recorded deployments, webhooks (stored and "executed" without any outbound request),
PactFlow secrets and PactFlow provider contracts (bi-directional testing). It runs under
the project's test server (uvicorn in a background thread) on 127.0.0.1, records every
request it receives, and can be told to fail or stall a route, or to answer one as a hostile broker
would (`hostile.py`: links elsewhere, redirects, answers too deep, too large or too slow).

Deliberate simplifications: a main branch is "main" or "master"; "latest" means most
recently added; a pact is pending only when seeded so; tag selectors select nothing; a
provider without pacts is unknown (404 on pacts-for-verification); the matrix reads
`q[][pacticipant]` + `q[][version]` selectors and an optional `environment` only; a
published provider contract is stored and its version created, but the matrix does not
compare it with consumer pacts (can-i-deploy still reads only verification results).
"""

from tests.support.broker.model import HAL_JSON, MAIN_BRANCHES, REDACTED, RecordedRequest
from tests.support.broker.server import ROUTES, BrokerDouble

__all__ = ["HAL_JSON", "MAIN_BRANCHES", "REDACTED", "ROUTES", "BrokerDouble", "RecordedRequest"]
