from __future__ import annotations

import sys

from pipeline import verify
from pipeline.settings import SettingsError, read_environment


def main() -> int:
    """`make verify_pact`: verify the one pact PACT_URL names; without it, one line and exit 2."""
    try:
        given = read_environment().get("PACT_URL")
    except SettingsError:
        return verify.main([])  # it says which setting it cannot use
    if not given:
        print("verify_pact needs PACT_URL=<pact file or URL>", file=sys.stderr)
        return 2
    return verify.main([])


if __name__ == "__main__":
    sys.exit(main())
