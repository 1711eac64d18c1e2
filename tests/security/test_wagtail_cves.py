"""B6: the Wagtail admin CVE regression pack.

Nearly every Wagtail security release of the last years fixed an admin view that checked the
wrong object, or none, for a signed-in editor with limited rights (revision compare, page
history, copy, form-submission delete, preview, image preview, chooser "chosen", settings,
bulk actions, translation copy). Our editors and reviewers are exactly such users.

Here an editor holds the real Editors role's model permissions (core/roles.py), but page rights
only on one section ("Paclitaxel", a topic page) and media rights only on one collection. She
then sends, by hand, the GET and POST each of those views expects, naming objects she has no
rights on: a page in another section with an unpublished draft, an image and a document in a
collection she cannot see, a clinical-reviewer snippet she may read but not edit, and a form
submission (the project has no form page type, so the submission row hangs on the article
page: this checks that the delete view refuses, not a real form's permission rules). Every
request must come back without the object's content, and the database must be unchanged. The
same GETs made by a superuser do show the content, and the same POSTs do change data, so the
probes aim at real objects with well-formed requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import wagtail
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.test import Client
from packaging.version import Version
from wagtail.contrib.forms.models import FormSubmission
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Revision,
)

from evidencepress.articles.models import ArticlePage, ClinicalReviewer, TopicPage
from evidencepress.core import roles
from evidencepress.evidence.models import Topic

from ..site.conftest import SmallSite, build_small_site
from .conftest import make_user

pytestmark = pytest.mark.django_db

DRAFT_MARKER = "Quetzal-unpublished-draft-7741"
IMAGE_MARKER = "Okapi-hidden-image-9917"
DOCUMENT_MARKER = "Pangolin-hidden-document-4402"
SUBMISSION_MARKER = "Axolotl-form-answer-3318"
USER_MARKER = "Tapir-admin-name-6120"
MARKERS = (DRAFT_MARKER, IMAGE_MARKER, DOCUMENT_MARKER, SUBMISSION_MARKER, USER_MARKER)

# Fixed versions from the public advisories for these views. The plan's §1.2 list of CVEs is
# missing from the copy of the plan in the workspace, so these were read from the PyPA
# advisory database and Wagtail's release notes for the areas the plan names:
# - revision compare, page history, form-submission delete, page copy, documents/images API:
#   PYSEC-2026-146/147/148, fixed in 7.0.7 and 7.3.2 (Wagtail 7.0.7 release notes);
# - CVE-2026-28223 (simple_translation "Translate" confirmation XSS): fixed in 7.3.1;
# - CVE-2026-55468 (Pages admin API returns restricted draft content): fixed in 8.0rc2.
FIXED_IN = {
    "PYSEC-2026-146..148, Wagtail 7.0.7/7.3.2 (compare, history, submissions, copy)": "7.3.2",
    "CVE-2026-28223 (translation copy)": "7.3.1",
    "CVE-2026-55468 (pages admin API)": "8.0rc2",
}


@dataclass
class World:
    small: SmallSite
    section: TopicPage  # the one section the limited editor may edit
    target: ArticlePage  # a live page in another section, with an unpublished draft
    live_revision: Revision
    draft_revision: Revision
    image: Any
    document: Any
    reviewer: ClinicalReviewer
    submission: FormSubmission
    own_collection: Collection
    editor: Any
    superuser: Any


MEDIA_PERMISSIONS = (  # what the Editors role holds on the root collection
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
)


def _section_editor(section: Page, collection: Collection) -> Any:
    """An editor with the Editors role's model permissions, limited to one section/collection."""
    editors = Group.objects.get(name=roles.EDITORS)
    group = Group.objects.create(name="Paclitaxel section editors")
    group.permissions.set(editors.permissions.all())
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=section,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    for app_label, codename in MEDIA_PERMISSIONS:
        GroupCollectionPermission.objects.create(
            group=group,
            collection=collection,
            permission=Permission.objects.get(content_type__app_label=app_label, codename=codename),
        )
    user = make_user("limited-lena")
    user.groups.add(group)
    return user


@pytest.fixture
def world(staff_roles: None) -> World:
    small = build_small_site()
    section_topic = Topic.objects.create(
        name="Paclitaxel for angiosarcoma",
        slug="paclitaxel-angiosarcoma",
        treatment="Paclitaxel",
        condition="Angiosarcoma",
    )
    section = small.home.add_child(
        instance=TopicPage(
            title="Paclitaxel for angiosarcoma",
            slug="paclitaxel-angiosarcoma",
            topic=section_topic,
            introduction="<p>A section the limited editor owns.</p>",
        )
    )
    section.save_revision().publish()

    target = ArticlePage.objects.get(pk=small.article.pk)
    live_revision = target.live_revision
    target.summary = f"An unpublished change: {DRAFT_MARKER}."
    draft_revision = target.save_revision()
    assert ArticlePage.objects.get(pk=target.pk).summary != target.summary  # still a draft

    root = Collection.get_first_root_node()
    own = root.add_child(name="Paclitaxel images")
    hidden = root.add_child(name="Board papers")
    image = get_image_model().objects.create(
        title=f"{IMAGE_MARKER} scan", file=get_test_image_file(), collection=hidden
    )
    document = get_document_model()(title=f"{DOCUMENT_MARKER} minutes", collection=hidden)
    document.file.save("minutes.txt", ContentFile(f"{DOCUMENT_MARKER} text".encode()))
    document.save()
    submission = FormSubmission.objects.create(page=target, form_data={"answer": SUBMISSION_MARKER})
    superuser = make_user("root-rosa", superuser=True)
    superuser.first_name, superuser.last_name = USER_MARKER, "Admin"
    superuser.save()
    return World(
        small=small,
        section=section,
        target=target,
        live_revision=live_revision,
        draft_revision=draft_revision,
        image=image,
        document=document,
        reviewer=small.reviewer,
        submission=submission,
        own_collection=own,
        editor=_section_editor(section, own),
        superuser=superuser,
    )


def snapshot(w: World) -> dict[str, object]:
    """Everything the crafted requests might change."""
    return {
        "pages": sorted(Page.objects.values_list("pk", "title", "slug", "live", "path", "locked")),
        "revisions": Revision.objects.count(),
        "target latest revision": Page.objects.get(pk=w.target.pk).latest_revision_id,
        "images": sorted(get_image_model().objects.values_list("pk", "title", "collection_id")),
        "documents": sorted(
            get_document_model().objects.values_list("pk", "title", "collection_id")
        ),
        "reviewers": sorted(ClinicalReviewer.objects.values_list("pk", "name", "credentials")),
        "submissions": FormSubmission.objects.count(),
        "users": sorted(get_user_model().objects.values_list("pk", "is_active", "first_name")),
    }


@dataclass(frozen=True)
class Probe:
    """One crafted request: which CVE area, the method, the URL and (for POST) the data."""

    area: str
    method: str
    url: str
    data: dict[str, Any] | None = None
    binary: bool = False  # the view answers with the object itself (an image), not HTML


def probes(w: World) -> list[Probe]:
    t, s = w.target.pk, w.section.pk
    live, draft = w.live_revision.pk, w.draft_revision.pk
    img, doc, rev = w.image.pk, w.document.pk, w.reviewer.pk
    user_app, user_model = w.superuser._meta.app_label, w.superuser._meta.model_name
    edit_form = {
        "title": "Hijacked",
        "slug": "hijacked",
        "summary": "Hijacked",
        "body-count": "0",
        "action-publish": "action-publish",
    }
    return [
        Probe("revision compare", "GET", f"/admin/pages/{t}/revisions/compare/{live}...{draft}/"),
        Probe("revision compare", "GET", f"/admin/pages/{t}/revisions/compare/live...latest/"),
        Probe("revision view", "GET", f"/admin/pages/{t}/revisions/{draft}/view/"),
        Probe("revision revert", "GET", f"/admin/pages/{t}/revisions/{draft}/revert/"),
        Probe("page history", "GET", f"/admin/pages/{t}/history/"),
        Probe("page history", "GET", f"/admin/pages/{t}/history/results/"),
        Probe("page revisions index", "GET", f"/admin/pages/{t}/revisions/"),
        Probe("page edit", "GET", f"/admin/pages/{t}/edit/"),
        Probe("page edit", "POST", f"/admin/pages/{t}/edit/", edit_form),
        Probe(
            "page copy",
            "POST",
            f"/admin/pages/{t}/copy/",
            {
                "new_title": "Stolen copy",
                "new_slug": "stolen-copy",
                "new_parent_page": str(s),
                "copy_subpages": "",
                "publish_copy": "",
                "alias": "",
            },
        ),
        Probe("page copy", "GET", f"/admin/pages/{t}/copy/"),
        Probe("preview", "GET", f"/admin/pages/{t}/edit/preview/"),
        Probe("preview", "POST", f"/admin/pages/{t}/edit/preview/", edit_form),
        Probe("workflow preview", "GET", f"/admin/pages/workflow/preview/{t}/1/"),
        Probe("page unpublish", "POST", f"/admin/pages/{t}/unpublish/", {}),
        Probe("page delete", "POST", f"/admin/pages/{t}/delete/", {}),
        Probe("page move", "POST", f"/admin/pages/{t}/move/{s}/confirm/", {}),
        Probe(
            "form-submission delete",
            "POST",
            f"/admin/forms/submissions/{t}/delete/?selected-submissions={w.submission.pk}",
            {},
        ),
        Probe("form submissions list", "GET", f"/admin/forms/submissions/{t}/"),
        Probe("image preview", "GET", f"/admin/images/{img}/preview/original/", binary=True),
        Probe("image preview", "GET", f"/admin/images/{img}/preview/fill-80x80/", binary=True),
        Probe("image edit", "GET", f"/admin/images/{img}/"),
        Probe("image edit", "POST", f"/admin/images/{img}/", {"title": "Hijacked"}),
        Probe("image delete", "POST", f"/admin/images/{img}/delete/", {}),
        Probe("image usage", "GET", f"/admin/images/usage/{img}/"),
        Probe("chooser chosen (image)", "GET", f"/admin/images/chooser/chosen/{img}/"),
        Probe("chooser chosen (image)", "GET", f"/admin/images/chooser/{img}/select_format/"),
        Probe("chooser chosen (document)", "GET", f"/admin/documents/chooser/chosen/{doc}/"),
        Probe("chooser (documents)", "GET", "/admin/documents/chooser/results/?q=Pangolin"),
        Probe("chooser (images)", "GET", "/admin/images/chooser/results/?q=Okapi"),
        Probe("document edit", "GET", f"/admin/documents/edit/{doc}/"),
        Probe("document edit", "POST", f"/admin/documents/edit/{doc}/", {"title": "Hijacked"}),
        Probe("document delete", "POST", f"/admin/documents/delete/{doc}/", {}),
        Probe(
            "snippet edit",
            "POST",
            f"/admin/snippets/articles/clinicalreviewer/edit/{rev}/",
            {"name": "Hijacked", "credentials": "none"},
        ),
        Probe(
            "snippet delete", "POST", f"/admin/snippets/articles/clinicalreviewer/delete/{rev}/", {}
        ),
        Probe(
            "snippet copy",
            "POST",
            f"/admin/snippets/articles/clinicalreviewer/copy/{rev}/",
            {"name": "Copied", "credentials": "none"},
        ),
        Probe(
            "bulk actions (pages)",
            "POST",
            f"/admin/bulk/wagtailcore/page/delete/?id={t}",
            {},
        ),
        Probe(
            "bulk actions (pages)",
            "POST",
            f"/admin/bulk/wagtailcore/page/unpublish/?id={t}",
            {"include_descendants": ""},
        ),
        Probe(
            "bulk actions (pages)",
            "POST",
            f"/admin/bulk/wagtailcore/page/publish/?id={t}",
            {"include_descendants": ""},
        ),
        Probe(
            "bulk actions (pages)",
            "POST",
            f"/admin/bulk/wagtailcore/page/move/?id={t}",
            {"chooser": str(s)},
        ),
        Probe("bulk actions (images)", "GET", f"/admin/bulk/wagtailimages/image/delete/?id={img}"),
        Probe(
            "bulk actions (documents)", "GET", f"/admin/bulk/wagtaildocs/document/delete/?id={doc}"
        ),
        Probe("bulk actions (pages)", "GET", f"/admin/bulk/wagtailcore/page/delete/?id={t}"),
        Probe(
            "bulk actions (users)",
            "GET",
            f"/admin/bulk/{user_app}/{user_model}/delete/?id={w.superuser.pk}",
        ),
        Probe(
            "bulk actions (users)",
            "POST",
            f"/admin/bulk/{user_app}/{user_model}/set_active_state/?id={w.superuser.pk}",
            {"mark_as_active": ""},
        ),
        Probe(
            "bulk actions (images)", "POST", f"/admin/bulk/wagtailimages/image/delete/?id={img}", {}
        ),
        Probe(
            "bulk actions (images)",
            "POST",
            f"/admin/bulk/wagtailimages/image/add_to_collection/?id={img}",
            {"collection": str(w.own_collection.pk)},
        ),
        Probe(
            "bulk actions (documents)",
            "POST",
            f"/admin/bulk/wagtaildocs/document/delete/?id={doc}",
            {},
        ),
        Probe(
            "bulk actions (documents)",
            "POST",
            f"/admin/bulk/wagtaildocs/document/add_to_collection/?id={doc}",
            {"collection": str(w.own_collection.pk)},
        ),
    ]


# The areas the plan names; "settings edit" and "translation copy" have no view to attack here.
PLAN_AREAS = (
    "revision compare",
    "page history",
    "page copy",
    "form-submission delete",
    "preview",
    "image preview",
    "chooser chosen (image)",
    "chooser chosen (document)",
    "bulk actions (pages)",
    "bulk actions (images)",
    "bulk actions (documents)",
    "snippet edit",
)
NOT_APPLICABLE = {
    "settings edit": "no model is registered with wagtail.contrib.settings, so "
    "/admin/settings/<app>/<model>/ has nothing to edit (checked below: 404)",
    "translation copy": "wagtail.contrib.simple_translation is not installed",
}


def _body(response: Any) -> bytes:
    return b"".join(response) if getattr(response, "streaming", False) else response.content


def _leaks(probe: Probe, response: Any) -> list[str]:
    """Why this response gives away the object, if it does."""
    body = _body(response)
    found = [marker for marker in MARKERS if marker.encode() in body]
    if probe.binary and response.status_code == 200:
        found.append(f"served {response.get('Content-Type')}")
    return found


def _send(client: Client, probe: Probe) -> Any:
    if probe.method == "GET":
        return client.get(probe.url)
    return client.post(probe.url, probe.data or {})


def test_a_limited_editor_gets_nothing_from_the_cve_endpoints(world: World) -> None:
    client = Client()
    client.force_login(world.editor)
    # She is a working editor: her own section opens, the target page's editor does not.
    assert client.get(f"/admin/pages/{world.section.pk}/edit/").status_code == 200
    before = snapshot(world)
    outcomes: list[tuple[str, str, str, int, list[str]]] = []
    locations: list[str] = []
    for probe in probes(world):
        response = _send(client, probe)
        locations.append(response.get("Location", ""))
        outcomes.append(
            (probe.area, probe.method, probe.url, response.status_code, _leaks(probe, response))
        )
    after = snapshot(world)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}

    leaking_areas = sorted({area for area, *_rest, leaks in outcomes if leaks})
    areas_tried = {area for area, *_ in outcomes}
    plan_hits = [area for area in PLAN_AREAS if area in leaking_areas]
    report = "\n".join(f"  {m} {u} -> {s} {leaks or ''}" for _a, m, u, s, leaks in outcomes)
    report += "\n" + "\n".join(sorted(set(locations)))
    assert set(PLAN_AREAS) <= areas_tried
    assert not plan_hits and not leaking_areas and not changed, (
        f"{len(plan_hits)} of {len(PLAN_AREAS)} plan endpoints returned the object's content "
        f"({len(leaking_areas)} of {len(areas_tried)} areas, {len(outcomes)} requests); "
        f"data changed: {changed}\n{report}"
    )
    # No 2xx on any write: every POST was refused or sent back without doing anything.
    accepted_writes = [
        (m, u, s)
        for _a, m, u, s, _l in outcomes
        if m == "POST" and 200 <= s < 300 and "preview" not in u
    ]
    assert accepted_writes == [], accepted_writes
    print(  # the measured figure, for the test log
        f"B6: 0 of {len(PLAN_AREAS)} plan endpoints (0 of {len(areas_tried)} areas, "
        f"{len(outcomes)} requests) returned content or changed data"
    )


def test_the_markers_are_reachable_for_someone_with_rights(world: World) -> None:
    """The same views do show the objects to a superuser: the probes above aim at real data."""
    client = Client()
    client.force_login(world.superuser)
    t, img, doc = world.target.pk, world.image.pk, world.document.pk
    shown = {
        "revision compare": (
            f"/admin/pages/{t}/revisions/compare/live...latest/",
            DRAFT_MARKER,
        ),
        "revision view": (
            f"/admin/pages/{t}/revisions/{world.draft_revision.pk}/view/",
            DRAFT_MARKER,
        ),
        "page edit": (f"/admin/pages/{t}/edit/", DRAFT_MARKER),
        "image edit": (f"/admin/images/{img}/", IMAGE_MARKER),
        "chooser chosen (image)": (f"/admin/images/chooser/chosen/{img}/", IMAGE_MARKER),
        "chooser chosen (document)": (f"/admin/documents/chooser/chosen/{doc}/", DOCUMENT_MARKER),
        "document edit": (f"/admin/documents/edit/{doc}/", DOCUMENT_MARKER),
    }
    missing = []
    for area, (url, marker) in shown.items():
        response = client.get(url)
        if response.status_code != 200 or marker.encode() not in _body(response):
            missing.append((area, url, response.status_code))
    bulk_page = client.get(f"/admin/bulk/wagtailimages/image/delete/?id={img}")
    if IMAGE_MARKER.encode() not in bulk_page.content:
        missing.append(("bulk actions (images)", "confirmation page", bulk_page.status_code))
    assert missing == []
    preview = client.get(f"/admin/images/{img}/preview/original/")
    assert preview.status_code == 200 and preview["Content-Type"].startswith("image/")


WRITE_CONTROLS = (
    "page copy",
    "snippet edit",
    "bulk actions (images)",
    "bulk actions (documents)",
    "bulk actions (pages)",
)


def test_the_crafted_writes_work_for_someone_with_rights(world: World) -> None:
    """Sent by a superuser, the refused POSTs do change data: they are well-formed requests,
    refused above because of who sent them."""
    client = Client()
    client.force_login(world.superuser)
    effective: dict[str, list[str]] = {}
    for probe in probes(world):
        if probe.method != "POST" or "delete" in probe.url or "preview" in probe.url:
            continue
        before = snapshot(world)
        _send(client, probe)
        if snapshot(world) != before:
            effective.setdefault(probe.area, []).append(probe.url)
    assert set(WRITE_CONTROLS) <= set(effective), sorted(effective)


def test_a_bulk_confirmation_names_no_object_the_user_may_not_see(world: World) -> None:
    """Regression for a leak this pack found: Wagtail 8.0.1's bulk-action confirmation page
    listed the titles of the selected images and documents the user has no rights on. Our
    template override (evidencepress/templates/wagtailadmin/bulk_actions/confirmation/) shows
    only how many were left out."""
    client = Client()
    client.force_login(world.editor)
    for url, marker in (
        (f"/admin/bulk/wagtailimages/image/delete/?id={world.image.pk}", IMAGE_MARKER),
        (f"/admin/bulk/wagtaildocs/document/delete/?id={world.document.pk}", DOCUMENT_MARKER),
    ):
        html = client.get(url).content.decode()
        assert marker not in html
        assert "One selected item is left out." in html


def test_settings_edit_and_translation_copy_do_not_exist_here(world: World) -> None:
    """The two plan areas with no view in this project: say why, and prove it."""
    from wagtail.contrib.settings.registry import registry as settings_registry

    assert list(settings_registry) == [], NOT_APPLICABLE["settings edit"]
    assert not apps.is_installed("wagtail.contrib.simple_translation"), NOT_APPLICABLE[
        "translation copy"
    ]
    client = Client()
    client.force_login(world.editor)
    for url in (
        "/admin/settings/articles/clinicalreviewer/",
        "/admin/translations/submit/page/1/",
        "/admin/translations/submit/snippet/articles/clinicalreviewer/1/",
    ):
        assert client.get(url).status_code == 404, url


def test_installed_wagtail_has_every_listed_fix() -> None:
    installed = Version(wagtail.__version__)
    below = {cve: fixed for cve, fixed in FIXED_IN.items() if installed < Version(fixed)}
    highest = max(FIXED_IN.values(), key=Version)
    assert below == {}, f"Wagtail {installed} is older than the fix for {below}"
    assert installed >= Version(highest), f"Wagtail {installed} < {highest}"


def test_the_json_of_a_chosen_object_is_refused_not_just_hidden(world: World) -> None:
    """A chooser "chosen" answer is JSON for the page's JavaScript: it must not carry the
    object's title or URL to someone without choose rights on its collection."""
    client = Client()
    client.force_login(world.editor)
    for url in (
        f"/admin/images/chooser/chosen/{world.image.pk}/",
        f"/admin/documents/chooser/chosen/{world.document.pk}/",
    ):
        response = client.get(url)
        if response.get("Content-Type", "").startswith("application/json"):
            assert "result" not in json.loads(_body(response)), url
        assert response.status_code in (302, 403, 404), (url, response.status_code)
        assert response.get("Location", "/admin/") == "/admin/", url
