"""Forms of the accounts pages: sign-in, users of my body, API tokens, my password.

Forms only parse and validate the shape of the input; the rules that also apply through the API (username
format, last 管理者, scopes within the role…) live in kiban.accounts.actions, whose errors the views put back
on the field they name.
"""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kiban.accounts import actions
from kiban.accounts.models import Role
from kiban.core.errors import KibanError


class AccessibleForm(forms.Form):
    """Links each input to its help text and errors (aria-describedby) and marks errors (aria-invalid),
    so that a screen reader announces what is wrong with the field it is on (WCAG 1.3.1, 3.3.1)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                self._describe(name, f"{self[name].auto_id}-help")

    def _describe(self, name: str, element_id: str) -> None:
        attrs = self.fields[name].widget.attrs
        ids = attrs.get("aria-describedby", "").split()
        if element_id not in ids:
            attrs["aria-describedby"] = " ".join([*ids, element_id])

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                self._describe(name, f"{self[name].auto_id}-error")

    def add_kiban_error(self, exc: KibanError, lang: str) -> None:
        """Put an action's error on the field it names (or on the form as a whole)."""
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.message(lang))
        if field:
            self.fields[field].widget.attrs["aria-invalid"] = "true"
            self._describe(field, f"{self[field].auto_id}-error")


class LoginForm(AccessibleForm):
    username = forms.CharField(
        label=_("ユーザー名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("パスワード"), strip=False, max_length=256, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class UserCreateForm(AccessibleForm):
    username = forms.CharField(
        label=_("ユーザー名"),
        max_length=150,
        help_text=_("ログインに使う名前です。半角の英数字と @ . + - _ が使えます。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )
    display_name = forms.CharField(label=_("表示名"), max_length=100, required=False)
    email = forms.EmailField(label=_("メールアドレス"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices, initial=Role.STAFF)
    password = forms.CharField(
        label=_("初期パスワード"),
        required=False,
        strip=False,
        max_length=256,
        help_text=_("10文字以上。空欄の場合、パスワードが設定されるまでログインできません。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        # The same rule as the API's (kiban.accounts.actions), so that the form names every error at once.
        try:
            return actions.clean_username(self.cleaned_data["username"])
        except KibanError as exc:
            raise forms.ValidationError(exc.message(translation.get_language() or "ja")) from None


class RoleForm(AccessibleForm):
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices)


class TokenCreateForm(AccessibleForm):
    name = forms.CharField(
        label=_("名前"), max_length=100, help_text=_("用途がわかる名前を付けてください (例: 集計システム連携)。")
    )
    scopes = forms.MultipleChoiceField(label=_("権限"), widget=forms.CheckboxSelectMultiple, choices=())
    expires_in_days = forms.IntegerField(
        label=_("有効日数"),
        min_value=actions.TOKEN_MIN_DAYS,
        max_value=actions.TOKEN_MAX_DAYS,
        initial=actions.TOKEN_DEFAULT_DAYS,
        help_text=_("1〜365日。期限を過ぎたトークンは使えなくなります。"),
    )

    def __init__(self, *args, scope_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = scope_choices


class PasswordChangeForm(AccessibleForm):
    old_password = forms.CharField(
        label=_("現在のパスワード"), strip=False, max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新しいパスワード"), strip=False, max_length=256, help_text=_("10文字以上。推測されやすいものは使えません。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_confirm = forms.CharField(
        label=_("新しいパスワード (確認)"), strip=False, max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_confirm"):
            self.add_error("new_password_confirm", _("確認用のパスワードが一致しません。"))
        return data
