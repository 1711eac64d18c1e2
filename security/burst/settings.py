"""Settings for the request-form burst (plan I2, step `burst` of make security-full): the
loopback soak settings, but with the production submission limits put back, since the burst
exists to show that they hold. Never use these settings anywhere else."""

from evidencepress.settings import production as _production
from security.soak.settings import *  # noqa: F403

SUMMARIES_RATE_LIMIT_PER_ADDRESS = _production.SUMMARIES_RATE_LIMIT_PER_ADDRESS
SUMMARIES_RATE_LIMIT_PER_EMAIL = _production.SUMMARIES_RATE_LIMIT_PER_EMAIL
