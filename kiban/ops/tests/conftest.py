from kiban.core.testing import *  # noqa: F401,F403
