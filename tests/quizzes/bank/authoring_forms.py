"""Helpers for the item-form tests: what a browser would post for a form as shown."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from quizzes.bank.forms import ItemAuthoring


def form_post_data(authoring: ItemAuthoring, **changes: Any) -> QueryDict:
    """Every field of the form as the browser posts it (a ticked box as "on", an unticked
    one left out, a disabled field left out), then ``changes`` (html name → value; a list
    for several values, None to leave a field out)."""
    data = QueryDict(mutable=True)
    parts: list[forms.Form] = [authoring.common, authoring.typed.form]
    for formset in authoring.typed.formsets.values():
        parts.append(formset.management_form)
        parts += formset.forms
    for form in parts:
        for bound in form:
            if bound.field.disabled:
                continue
            value = bound.value()
            if isinstance(bound.field.widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
                continue
            shown = bound.field.widget.format_value(value)
            if isinstance(shown, list):  # a select or radio buttons: the chosen values
                data.setlist(bound.html_name, [str(v) for v in shown if v != ""])
            else:
                data[bound.html_name] = "" if shown is None else str(shown)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        elif isinstance(value, list):
            data.setlist(name, [str(v) for v in value])
        else:
            data[name] = str(value)
    return data
