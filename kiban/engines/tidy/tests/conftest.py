from kiban.core.testing import *
