"""監査ログの絞り込みフォーム (the viewer's filter form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kiban.audit.queries import action_label


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("操作"), required=False)
    actor = forms.CharField(label=_("操作者"), required=False, max_length=150)
    target_type = forms.CharField(label=_("対象の種類"), required=False, max_length=100)
    target_id = forms.CharField(label=_("対象ID"), required=False, max_length=64)
    since = forms.DateField(
        label=_("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("開始日は 2026-04-01 の形で入力してください。")},
    )
    until = forms.DateField(
        label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("終了日は 2026-04-01 の形で入力してください。")},
    )

    def __init__(self, *args, actions: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("すべて"))] + [(a, f"{action_label(a)} ({a})") for a in actions]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("終了日は開始日以降の日付にしてください。"))
        return data

    def filters(self) -> dict:
        """The cleaned filters for kiban.audit.queries.filter_entries (empty when the form is invalid)."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
