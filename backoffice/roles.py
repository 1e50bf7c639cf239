"""Staff roles: which Django group holds which permissions. The one place that says it.

`ROLES` maps each group to rules per app: `"*"` is every model of the app, including models added
later; a model named explicitly overrides `"*"` (an empty tuple takes the model out). `EXTRA` adds
custom permissions. `groups_sync` makes each group hold exactly these permissions; it runs in the
campaigns `staff_groups` migration (with the historical models) and after every `migrate`
(backoffice.apps, post_migrate), so a model added by a later migration reaches the right groups by itself
when its app is covered by `"*"`, and otherwise once it is named here.

Give a staff user a role: admin > Users > the user > Groups (and "Staff status"), or
`user.groups.add(Group.objects.get(name="support agent"))`.
"""

ALL = ("add", "change", "delete", "view")
VIEW = ("view",)
NONE = ()

PROGRAM_MANAGER = "program manager"
SUPPORT_AGENT = "support agent"
ANALYST = "analyst"
AUDITOR = "auditor"

# Secrets and plumbing no role reads through the admin (superusers only).
_PLUMBING = {
    "partnerapikey": NONE,
    "idempotencykey": NONE,
    "webhookendpoint": NONE,
    "webhookdelivery": NONE,
    "eventhandling": NONE,
    "auditentry": NONE,
}

ROLES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    # Configures programs, tiers, earning rules, plans, the catalog, campaigns and surveys; may correct
    # members (tier, status, refunds, unlimited adjustments). Views members to target them.
    PROGRAM_MANAGER: {
        "members": {
            "program": ("add", "change", "view"),
            "tier": ALL,
            "earningrule": ALL,
            "rulerevision": ("add", "change", "view"),  # drafts, simulation, scheduling, publishing
            "membershipplan": ALL,
            "partner": VIEW,
            "member": ("change", "view"),
            "subscription": ("change", "view"),
            "purchase": ("change", "view"),
            "ledgerentry": VIEW,
            "tierchange": VIEW,
            "reviewcase": ("change", "view"),  # decides held earns and referrals
            "pendingadjustment": VIEW,  # approves another staff member's large adjustment (adjust_points)
        },
        "rewards": {"*": ALL},
        "campaigns": {"*": ALL},
        # Partner settlement: sets the partners' rates; reads the closed statements (nobody edits one).
        "coalition": {"*": VIEW, "partnerrate": ALL},
        # Staff sign-in lockouts (django-axes): sees them and lifts one by deleting its attempts.
        "axes": {"accessattempt": ("delete", "view"), "accesslog": VIEW, "accessfailurelog": VIEW},
        "feedback": {
            "*": VIEW,
            "survey": ALL,
            "question": ALL,
            "slapolicy": ALL,
            "ticket": NONE,
            "ticketmessage": NONE,
        },
    },
    # Views members and their history, adjusts points within the limit, handles tickets. Nothing else.
    SUPPORT_AGENT: {
        "members": {
            "member": VIEW,
            "ledgerentry": VIEW,
            "tierchange": VIEW,
            "subscription": VIEW,
            "purchase": VIEW,
            "pendingadjustment": VIEW,  # sees what waits; approves only within their own adjust limit
        },
        "feedback": {"ticket": ("add", "change", "view"), "ticketmessage": VIEW},
    },
    # Read-only on the business data; the dashboard (members.view_member) and its CSV exports.
    ANALYST: {
        "members": {"*": VIEW, **_PLUMBING},
        "rewards": {"*": VIEW},
        "feedback": {"*": VIEW},
        "campaigns": {"*": VIEW},
        "coalition": {"*": VIEW},
    },
    # Read-only on the ledger, the audit trail, the admin log and staff sign-in attempts.
    AUDITOR: {
        "members": {
            "ledgerentry": VIEW,
            "auditentry": VIEW,
            "reviewcase": VIEW,
            "reconciliationrun": VIEW,
            "pendingadjustment": VIEW,
        },
        # The settlement statements that tie partners' money to the ledger (checked nightly).
        "coalition": {"*": VIEW},
        "admin": {"logentry": VIEW},
        "axes": {"accessattempt": VIEW, "accesslog": VIEW, "accessfailurelog": VIEW},
    },
}

EXTRA: dict[str, tuple[str, ...]] = {
    PROGRAM_MANAGER: ("members.adjust_points", "members.adjust_points_unlimited", "members.view_dashboard"),
    SUPPORT_AGENT: ("members.adjust_points",),
    ANALYST: ("members.view_dashboard", "members.export_member"),
    AUDITOR: (),
}


def role_permissions(role: str, models_by_app: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The (app_label, codename) pairs `role` holds, given the model names each app has now."""
    wanted = set()
    for app_label, rules in ROLES[role].items():
        for model in models_by_app.get(app_label, []):
            actions = rules.get(model, rules.get("*", NONE))
            wanted.update((app_label, f"{action}_{model}") for action in actions)
    wanted.update(tuple(name.split(".", 1)) for name in EXTRA[role])
    return wanted


def groups_sync(Group, Permission, ContentType) -> None:
    """Create the four groups and give each exactly its permissions (extra ones are taken away).

    Takes the models as arguments so the migration can pass its historical ones."""
    models_by_app: dict[str, list[str]] = {}
    for app_label, model in ContentType.objects.values_list("app_label", "model"):
        models_by_app.setdefault(app_label, []).append(model)
    by_name = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_name[key] for key in sorted(role_permissions(role, models_by_app)) if key in by_name])


def staff_groups_sync(sender, using: str = "default", **kwargs) -> None:
    """post_migrate, for every app: keep the groups in step with the models that exist now.

    It creates the sender's permissions itself (idempotent), so it does not depend on running after
    django.contrib.auth's own post_migrate receiver."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    create_permissions(sender, verbosity=0, using=using)
    groups_sync(Group, Permission, ContentType)
