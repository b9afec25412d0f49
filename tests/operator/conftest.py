"""The operator's actions on orders at a provider: the simulator over loopback as that
provider, and a worker to carry the actions to it."""

from tests.fulfillment.conftest import provider, sim, worker  # noqa: F401
