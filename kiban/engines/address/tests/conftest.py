from kiban.core.testing import *  # noqa: F401,F403  (world, alice, charlie, make_token, … fixtures)
