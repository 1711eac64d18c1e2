"""Staff roles as Wagtail groups: what each role may do (docs/roles.yaml, docs/security.md).

`ensure_roles()` creates or updates four groups. It is idempotent and runs from
`manage.py setup_roles`, `load_demo` and `ensure_admin`.

- Editors: write pages (not publish), manage the evidence base, upload documents and images.
- Clinician reviewers: what editors do, plus approve "Clinical review", publish and unpublish
  pages (topic and article pages go live only through the review: articles/publishing.py) and hold
  `summaries.approve_clinically` (which only counts for members of Summary editors too) and
  `evidence.approve_safetyruleset` (approve a topic's safety rules; the rules' admin is in the
  Summary editors' area, so this too is used by members of both groups).
- Summary editors: the readers' summary requests (personal health data) and nothing else.
- Admins: manage users, groups, sites, collections and workflows; every page permission.
  Admins do not see summary requests unless they are also Summary editors.

Only Admins hold user or group permissions: any group that can edit users can make itself
anything Wagtail lets it grant, see tests/security/test_roles.py. Superuser status and the
Summary editors group are granted by superusers only (core/privileges.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Locale,
    Page,
)

EDITORS = "Editors"
CLINICIAN_REVIEWERS = "Clinician reviewers"
SUMMARY_EDITORS = "Summary editors"
ADMINS = "Admins"
ROLE_NAMES = (EDITORS, CLINICIAN_REVIEWERS, SUMMARY_EDITORS, ADMINS)

ALL = ("add", "change", "delete", "view")
ACCESS_ADMIN = ("wagtailadmin", "access_admin")
USER_MANAGEMENT = {"add_user", "change_user", "delete_user", "add_group", "change_group"}


@dataclass(frozen=True)
class Role:
    """Permissions of one group: model permissions, page permissions, collection permissions.

    `app_models` maps an app label to the actions granted on every model of that app, so a
    model added later is covered without editing this file.
    """

    name: str
    app_models: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra: tuple[tuple[str, str], ...] = ()
    page: tuple[str, ...] = ()
    collection: tuple[str, ...] = ()


_AUTHORING_APPS = {"evidence": ALL, "literature": ("view",), "articles": ("view",)}
_MEDIA = (
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
)

ROLES = (
    Role(
        name=EDITORS,
        app_models=_AUTHORING_APPS,
        extra=(ACCESS_ADMIN,),
        page=("add_page", "change_page", "lock_page", "unlock_page"),
        collection=tuple(codename for _, codename in _MEDIA),
    ),
    Role(
        name=CLINICIAN_REVIEWERS,
        app_models=_AUTHORING_APPS,
        extra=(
            ACCESS_ADMIN,
            ("summaries", "approve_clinically"),
            ("evidence", "approve_safetyruleset"),
        ),
        page=("add_page", "change_page", "publish_page", "lock_page", "unlock_page"),
        collection=tuple(codename for _, codename in _MEDIA),
    ),
    Role(
        name=SUMMARY_EDITORS,
        app_models={"summaries": ("change", "delete", "view")},
        extra=(ACCESS_ADMIN,),
    ),
    Role(
        name=ADMINS,
        app_models={
            "evidence": ALL,
            "literature": ALL,
            "articles": ALL,
            "wagtailredirects": ALL,
        },
        extra=(
            ACCESS_ADMIN,
            ("auth", "add_user"),
            ("auth", "change_user"),
            ("auth", "delete_user"),
            ("auth", "view_user"),
            ("auth", "add_group"),
            ("auth", "change_group"),
            ("auth", "delete_group"),
            ("auth", "view_group"),
            ("wagtailcore", "add_site"),
            ("wagtailcore", "change_site"),
            ("wagtailcore", "delete_site"),
            ("wagtailcore", "add_collection"),
            ("wagtailcore", "change_collection"),
            ("wagtailcore", "delete_collection"),
            ("wagtailcore", "add_workflow"),
            ("wagtailcore", "change_workflow"),
            ("wagtailcore", "add_task"),
            ("wagtailcore", "change_task"),
        ),
        page=(
            "add_page",
            "change_page",
            "publish_page",
            "bulk_delete_page",
            "lock_page",
            "unlock_page",
        ),
        collection=(
            *(codename for _, codename in _MEDIA),
            "delete_document",
            "delete_image",
        ),
    ),
)


def _installed(app_label: str) -> bool:
    return any(config.label == app_label for config in apps.get_app_configs())


def _model_permissions(role: Role) -> list[Permission]:
    wanted: list[tuple[str, str]] = list(role.extra)
    for app_label, actions in role.app_models.items():
        if not _installed(app_label):
            continue
        for model in apps.get_app_config(app_label).get_models():
            wanted += [(app_label, f"{action}_{model._meta.model_name}") for action in actions]
    return _permissions(p for p in wanted if _installed(p[0]))


def _lookup(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Permission]:
    return {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in=[codename for _, codename in pairs]
        )
    }


def _create_model_permissions() -> None:
    """What migrate's post_migrate step does: content types and model permissions, if absent.

    A database flushed without that step (test teardown, a partial restore) lacks them.
    """
    # The content-type cache may still hold ids from before the flush.
    ContentType.objects.clear_cache()
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)


def _permissions(pairs: Iterable[tuple[str, str]]) -> list[Permission]:
    pairs = list(dict.fromkeys(pairs))
    found = _lookup(pairs)
    if any(pair not in found for pair in pairs):
        _create_model_permissions()
        found = _lookup(pairs)
    missing = [f"{app}.{codename}" for app, codename in pairs if (app, codename) not in found]
    if missing:
        raise LookupError(
            "ensure_roles: permissions not in the database (run migrate first): "
            + ", ".join(missing)
        )
    return [found[pair] for pair in pairs]


def _page_and_collection_permissions(role: Role) -> tuple[list[Permission], list[Permission]]:
    page = _permissions(("wagtailcore", codename) for codename in role.page)
    media_apps = {"document": "wagtaildocs", "image": "wagtailimages"}
    collection = _permissions(
        (media_apps[codename.rsplit("_", 1)[1]], codename) for codename in role.collection
    )
    return page, collection


def ensure_roles() -> dict[str, int]:
    """Create the four staff groups, or bring them back to exactly their role.

    Idempotent. Each group ends up holding the permissions defined here and no others (pages
    on the tree root, documents and images on the root collection), which also removes what
    Wagtail's initial data gives its default "Editors" group (publishing, deleting media).
    Roles are changed in this file, reviewed like code, not by hand in the admin. Returns
    {group name: number of permissions added or removed}.
    """
    root_page, root_collection = _tree_roots()
    changed: dict[str, int] = {}
    with transaction.atomic():
        for role in ROLES:
            group, _ = Group.objects.get_or_create(name=role.name)
            page_perms, collection_perms = _page_and_collection_permissions(role)
            wanted = (
                {("model", p.pk) for p in _model_permissions(role)}
                | {("page", p.pk) for p in page_perms}
                | {("collection", p.pk) for p in collection_perms}
            )
            held = _held(group, root_page.pk, root_collection.pk)
            changed[role.name] = len(wanted ^ held)
            if wanted == held:
                continue
            group.permissions.set([pk for kind, pk in wanted if kind == "model"])
            GroupPagePermission.objects.filter(group=group).delete()
            GroupCollectionPermission.objects.filter(group=group).delete()
            GroupPagePermission.objects.bulk_create(
                GroupPagePermission(group=group, page=root_page, permission=p) for p in page_perms
            )
            GroupCollectionPermission.objects.bulk_create(
                GroupCollectionPermission(group=group, collection=root_collection, permission=p)
                for p in collection_perms
            )
    return changed


def _tree_roots() -> tuple[Page, Collection]:
    """The page tree root and the root collection, recreated as Wagtail's migrations make
    them if a flushed database lost them (as the demo loader does for the home page)."""
    root_page = Page.get_first_root_node()
    if root_page is None:
        Locale.objects.get_or_create(
            language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
        )
        root_page = Page.add_root(instance=Page(title="Root", slug="root"))
    root_collection = Collection.get_first_root_node()
    if root_collection is None:
        root_collection = Collection.add_root(name="Root")
    return root_page, root_collection


def _held(group: Group, root_page_id: int, root_collection_id: int) -> set[tuple[str, int]]:
    """What the group holds now, in the same terms; grants elsewhere in the tree count as
    extra (a role is defined on the root only)."""
    held = {("model", pk) for pk in group.permissions.values_list("pk", flat=True)}
    for page_id, perm_id in GroupPagePermission.objects.filter(group=group).values_list(
        "page_id", "permission_id"
    ):
        held.add(("page", perm_id) if page_id == root_page_id else ("page-elsewhere", perm_id))
    for collection_id, perm_id in GroupCollectionPermission.objects.filter(group=group).values_list(
        "collection_id", "permission_id"
    ):
        kind = "collection" if collection_id == root_collection_id else "collection-elsewhere"
        held.add((kind, perm_id))
    return held
