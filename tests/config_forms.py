"""The admin's own add form for a configuration model, filled from a valid instance with some fields
changed: what staff see when they type a bad value (the form runs the model's clean() and its
CheckConstraints, as Django 5.2's ModelForm does)."""

from datetime import datetime

from django.contrib import admin
from django.db import models
from django.forms.models import model_to_dict
from django.test import RequestFactory


def _form_data(instance: models.Model, changes: dict) -> dict:
    data = {}
    for name, value in {**model_to_dict(instance), **changes}.items():
        if isinstance(value, models.Model):
            value = value.pk
        elif isinstance(value, list | tuple):
            value = [v.pk if isinstance(v, models.Model) else v for v in value]
        if value is None:
            continue
        if isinstance(value, datetime):  # the admin splits date and time
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
        data[name] = value
    return data


def admin_add_form(user, instance: models.Model, **changes):
    """The bound admin add form for `instance`'s model with its values and `changes` (not saved)."""
    model_admin = admin.site._registry[type(instance)]
    request = RequestFactory().get("/")
    request.user = user
    form_class = model_admin.get_form(request, None, change=False)
    return form_class(_form_data(instance, changes))


def errors_text(form) -> str:
    return " ".join(str(m) for messages in form.errors.values() for m in messages)
