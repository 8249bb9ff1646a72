"""The address engine's one error type."""

from kiban.core.errors import KibanError


class AddressError(KibanError):
    """住所エンジンの入力誤り (例: 不正な団体コード・郵便番号、読めない入力ファイル).

    normalize() itself never raises on bad address text: it returns level 0 with a reason. This error is for
    the helpers and the batch command (a wrong `--default-body`, a missing column, a bad postal code).
    """

    default_code = "address_invalid"
