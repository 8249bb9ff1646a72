from kiban.core.testing import *  # noqa: F401,F403  (world, alice, bob, charlie, dan, org_a, … fixtures)
