"""Wagtail admin viewsets for the evidence base, grouped under one "Evidence" menu.

Publications and their reported patients are one modelcluster (ParentalKey), so an editor adds
patients, and each patient's adverse events and source spans, on the publication's own screen
(nested InlinePanels). Every listing has filters and a search box, and marks demonstration rows.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Count, Q, QuerySet
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.admin.ui.tables import BooleanColumn, Column, StatusFlagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import Button, HeaderButton

from .forms import PublicationForm, VocabularySelect, case_field_choices, use_topic_vocabulary
from .history import recorded_reason, topics_fed_by
from .import_views import REQUIRED_PERMISSIONS, CaseImportView
from .models import (
    Appraisal,
    EvidenceFact,
    Publication,
    ReportedPatient,
    ResearchQuestion,
    Topic,
    Treatment,
)
from .notices import DEMO_LABEL
from .published import published_pages
from .views import TopicDefinitionView, TopicHistoryView, TopicSummaryView

REASON_HELP = (
    "Pages published to readers use this evidence. Say why it changes; the reason is kept in the "
    "evidence history."
)


# --- changes to evidence that published pages use: list the pages, ask for a reason ----------


class FedPagesMixin:
    """The live pages whose evidence an object feeds (via its topics)."""

    object: Any

    @cached_property
    def fed_topics(self) -> dict[int, str]:
        return topics_fed_by(self.object)

    @cached_property
    def fed_pages(self) -> list[Any]:
        return published_pages(self.fed_topics)

    def fed_context(self) -> dict[str, Any]:
        return {
            "fed_pages": self.fed_pages,
            "fed_topics": self.fed_topics,
            "history_urls": [
                (name, reverse("topic:evidence_history", args=[pk]))
                for pk, name in self.fed_topics.items()
            ],
        }


class EvidenceEditView(FedPagesMixin, generic.EditView):
    """An edit form that asks for a reason when published pages use the object's evidence, and
    records it with the change (evidence/history.py)."""

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        form.fields["change_reason"] = forms.CharField(
            label="Reason for this change",
            required=bool(self.fed_pages),
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=REASON_HELP if self.fed_pages else "Optional: kept in the evidence history.",
        )
        use_topic_vocabulary(form)  # a case's value choices are its topic's
        return form

    def save_instance(self) -> Any:
        with recorded_reason(self.form.cleaned_data.get("change_reason", "")):
            return super().save_instance()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.fed_context(), reason_field=context["form"]["change_reason"])
        return context


class DeleteReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason for deleting",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvidenceDeleteView(FedPagesMixin, generic.DeleteView):
    """Deleting evidence: first the published pages it feeds and what goes with it, then a
    reason (required when pages use it), recorded with every deleted row. Replaces Wagtail's
    reference count, which does not see the cases and facts that feed pages."""

    form_class = DeleteReasonForm
    template_name = "evidence/admin/confirm_delete.html"

    def get_usage_url(self) -> None:
        return None  # our own summary below, not "referenced N times"

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        if self.fed_pages:
            form.fields["reason"].required = True
            form.fields["reason"].help_text = REASON_HELP
        return form

    def form_invalid(self, form: Any) -> Any:
        return self.render_to_response(self.get_context_data(form=form))

    def form_valid(self, form: Any) -> Any:
        self.reason = form.cleaned_data.get("reason", "")
        return super().form_valid(form)

    def delete_action(self) -> None:
        with recorded_reason(getattr(self, "reason", "")):
            super().delete_action()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.fed_context(), goes_with_it=self.goes_with_it())
        context.setdefault("form", self.get_form())
        return context

    def goes_with_it(self) -> list[str]:
        """What deleting the object deletes with it, in words ("10 reported patients")."""
        out = []
        for relation, noun in (
            ("patients", "reported patient"),
            ("facts", "fact from this source"),
            ("adverse_events", "adverse event"),
            ("source_spans", "source passage"),
        ):
            manager = getattr(self.object, relation, None)
            if manager is None or not hasattr(manager, "count"):
                continue
            count = manager.count()
            if count:
                out.append(f"{count} {noun}{'' if count == 1 else 's'}")
        return out


def demo_column(name: str = "is_demo") -> StatusFlagColumn:
    """A listing column that tags invented rows, so they are never mistaken for evidence."""
    return StatusFlagColumn(
        name, label="Data", true_label=DEMO_LABEL, sort_key=name.replace(".", "__")
    )


# --- choosers --------------------------------------------------------------------------------


class PublicationSearchForm(BaseFilterForm):
    """Search box of the publication chooser: title, PMID or DOI (the model is not indexed)."""

    q = forms.CharField(
        label="Search term",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Title, PMID or DOI"}),
    )

    def filter(self, objects: QuerySet[Publication]) -> QuerySet[Publication]:
        objects = super().filter(objects)
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            objects = objects.filter(
                Q(title__icontains=query) | Q(pmid=query) | Q(doi__iexact=query.lower())
            )
            self.is_searching = True
            self.search_query = query
        return objects


class PublicationChooseView(chooser_views.ChooseView):
    filter_form_class = PublicationSearchForm


class PublicationChooseResultsView(chooser_views.ChooseResultsView):
    filter_form_class = PublicationSearchForm


class PublicationChooserViewSet(ChooserViewSet):
    """The chooser modal for a patient's or an appraisal's publication (there may be thousands)."""

    model = Publication
    icon = "doc-full"
    choose_one_text = "Choose a publication"
    choose_another_text = "Choose another publication"
    edit_item_text = "Edit this publication"
    url_prefix = "evidence/publication-chooser"
    choose_view_class = PublicationChooseView
    choose_results_view_class = PublicationChooseResultsView


publication_chooser_viewset = PublicationChooserViewSet("publication_chooser")
PublicationChooserWidget = publication_chooser_viewset.widget_class


# --- panels shared by the patient screen and the publication screen's inline -------------------


def patient_panels(*, with_publication: bool) -> list[Any]:
    """Panels for one reported patient; adverse events and sources are nested inline.

    On the patient's own screen (with_publication) the groups are collapsible sections; inside
    the publication screen's inline panel they are plain headings, which read better there.
    """

    def section(heading: str, children: list[Any]) -> list[Any]:
        if with_publication:
            return [MultiFieldPanel(children, heading=heading)]
        title = format_html('<h3 class="w-h3">{}</h3>', heading)
        return [HelpPanel(content=title), *children]

    case = [
        FieldRowPanel([FieldPanel("label"), FieldPanel("topic")]),
        FieldRowPanel([FieldPanel("is_demo"), FieldPanel("verified")]),
    ]
    if with_publication:
        case.insert(0, FieldPanel("publication", widget=PublicationChooserWidget))
    return [
        *section("Case", case),
        *section(
            "Patient and lesion",
            [
                FieldRowPanel([FieldPanel("age"), FieldPanel("sex")]),
                FieldRowPanel(
                    [FieldPanel("setting", widget=VocabularySelect("setting")), FieldPanel("site")]
                ),
                FieldRowPanel(
                    [
                        FieldPanel("lesion_size_mm"),
                        FieldPanel("lesion_count"),
                        FieldPanel("lesion_depth", widget=VocabularySelect("lesion_depth")),
                    ]
                ),
                FieldPanel("surgery_candidate"),
            ],
        ),
        *section(
            "Treatment",
            [
                FieldPanel("prior_treatments", widget=forms.CheckboxSelectMultiple),
                FieldPanel("concurrent_treatments", widget=forms.CheckboxSelectMultiple),
                FieldPanel("treatment_details"),
                FieldRowPanel(
                    [
                        FieldPanel("regimen_strength"),
                        FieldPanel("regimen_frequency_per_week"),
                        FieldPanel("regimen_duration_weeks"),
                    ]
                ),
                FieldPanel("occlusion"),
            ],
        ),
        *section(
            "Outcome",
            [
                FieldRowPanel(
                    [
                        FieldPanel("response", widget=VocabularySelect("response")),
                        FieldPanel(
                            "response_assessment", widget=VocabularySelect("response_assessment")
                        ),
                    ]
                ),
                FieldRowPanel(
                    [FieldPanel("time_to_response_weeks"), FieldPanel("follow_up_months")]
                ),
                FieldRowPanel(
                    [
                        FieldPanel("recurrence"),
                        FieldPanel("recurrence_months"),
                        FieldPanel("treatment_stopped_early"),
                    ]
                ),
                FieldPanel(
                    "status_at_last_follow_up", widget=VocabularySelect("status_at_last_follow_up")
                ),
                FieldPanel("biomarkers"),
            ],
        ),
        FieldPanel("curator_notes"),
        InlinePanel(
            "adverse_events",
            label="adverse event",
            heading="Adverse events",
            panels=[
                FieldRowPanel(
                    [
                        FieldPanel("kind"),
                        FieldPanel("severity", widget=VocabularySelect("severity")),
                        FieldPanel("led_to_stop"),
                    ]
                ),
                FieldPanel("description"),
            ],
        ),
        InlinePanel(
            "source_spans",
            label="source",
            heading="Where each fact was read",
            panels=[
                FieldRowPanel(
                    [
                        FieldPanel("field", widget=forms.Select(choices=case_field_choices())),
                        FieldPanel("section"),
                        FieldPanel("page"),
                    ]
                ),
                FieldPanel("quote"),
            ],
        ),
    ]


# --- topics ----------------------------------------------------------------------------------


class TopicIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[Topic]:
        return super().get_base_queryset().annotate(patient_count=Count("patients"))

    def get_list_more_buttons(self, instance: Topic) -> list[Any]:
        buttons = super().get_list_more_buttons(instance)
        buttons.insert(
            0,
            Button(
                "Evidence summary",
                url=reverse("topic:summary", args=[instance.pk]),
                icon_name="table",
                priority=5,
            ),
        )
        buttons.insert(
            1,
            Button(
                "Evidence history",
                url=reverse("topic:evidence_history", args=[instance.pk]),
                icon_name="history",
                priority=6,
            ),
        )
        buttons.insert(
            2,
            Button(
                "Definition",
                url=reverse("topic:definition", args=[instance.pk]),
                icon_name="code",
                priority=7,
            ),
        )
        return buttons


class TopicEditView(EvidenceEditView):
    @property
    def header_buttons(self) -> list[Any]:
        return [
            HeaderButton(
                "Evidence summary",
                url=reverse("topic:summary", args=[self.object.pk]),
                icon_name="table",
            ),
            HeaderButton(
                "Evidence history",
                url=reverse("topic:evidence_history", args=[self.object.pk]),
                icon_name="history",
            ),
            HeaderButton(
                "Definition",
                url=reverse("topic:definition", args=[self.object.pk]),
                icon_name="code",
            ),
        ]


class TopicViewSet(ModelViewSet):
    model = Topic
    icon = "tag"
    menu_label = "Topics"
    index_view_class = TopicIndexView
    edit_view_class = TopicEditView
    edit_template_name = "evidence/admin/edit.html"
    copy_view_enabled = False
    list_display = [
        TitleColumn("name", label="Topic", url_name="topic:edit"),
        "treatment",
        "condition",
        Column("patient_count", label="Reported patients", sort_key="patient_count"),
        TitleColumn(
            "summary",
            label="Evidence",
            accessor=lambda topic: "Evidence summary",
            get_url=lambda topic: reverse("topic:summary", args=[topic.pk]),
        ),
    ]
    list_filter = ["treatment", "condition"]
    search_fields = ["name", "slug", "treatment", "condition"]
    search_backend_name = None
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldRowPanel([FieldPanel("treatment"), FieldPanel("condition")]),
        FieldPanel("description"),
    ]

    @property
    def summary_view(self) -> Any:
        return self.construct_view(
            TopicSummaryView,
            index_url_name=self.get_url_name("index"),
            edit_url_name=self.get_url_name("edit"),
        )

    @property
    def evidence_history_view(self) -> Any:
        return self.construct_view(
            TopicHistoryView,
            index_url_name=self.get_url_name("index"),
            edit_url_name=self.get_url_name("edit"),
        )

    @property
    def definition_view(self) -> Any:
        return self.construct_view(
            TopicDefinitionView,
            index_url_name=self.get_url_name("index"),
            edit_url_name=self.get_url_name("edit"),
        )

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("summary/<int:pk>/", self.summary_view, name="summary"),
            path("evidence-history/<int:pk>/", self.evidence_history_view, name="evidence_history"),
            path("definition/<int:pk>/", self.definition_view, name="definition"),
        ]


# --- publications ----------------------------------------------------------------------------


class PublicationFilterSet(WagtailFilterSet):
    class Meta:
        model = Publication
        fields = {
            "topics": ["exact"],
            "is_demo": ["exact"],
            "retracted": ["exact"],
            "year": ["exact", "gte", "lte"],
            "language": ["exact"],
            "source_format": ["exact"],
        }


class PublicationIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[Publication]:
        return super().get_base_queryset().annotate(patient_count=Count("patients"))


class PublicationViewSet(ModelViewSet):
    model = Publication
    icon = "doc-full"
    menu_label = "Publications"
    index_view_class = PublicationIndexView
    edit_view_class = EvidenceEditView
    delete_view_class = EvidenceDeleteView
    edit_template_name = "evidence/admin/edit.html"
    copy_view_enabled = False
    ordering = ["-year", "title"]
    list_display = [
        TitleColumn(
            "display_title",
            label="Title",
            url_name="publication:edit",
            width="40%",
            sort_key="title",
        ),
        Column("first_author", label="First author"),
        "year",
        "pmid",
        Column("patient_count", label="Patients", sort_key="patient_count"),
        StatusFlagColumn("retracted", label="Retracted", true_label="Retracted"),
        demo_column(),
    ]
    filterset_class = PublicationFilterSet
    search_fields = ["title", "pmid", "doi", "pmcid", "journal"]
    search_backend_name = None
    list_export = ["pmid", "doi", "pmcid", "title", "journal", "year", "retracted", "is_demo"]
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldRowPanel([FieldPanel("pmid"), FieldPanel("doi"), FieldPanel("pmcid")]),
                    FieldPanel("title"),
                    FieldPanel("authors"),
                    FieldRowPanel(
                        [
                            FieldPanel("journal"),
                            FieldPanel("year"),
                            FieldPanel("volume"),
                            FieldPanel("issue"),
                            FieldPanel("pages"),
                        ]
                    ),
                    FieldPanel("abstract"),
                    FieldRowPanel([FieldPanel("language"), FieldPanel("date_revised")]),
                    FieldPanel("publication_types"),
                    FieldPanel("mesh_terms"),
                    FieldPanel("keywords"),
                ],
                heading="Publication",
            ),
            ObjectList(
                [
                    InlinePanel(
                        "patients",
                        label="reported patient",
                        heading="Patients described in this publication",
                        panels=patient_panels(with_publication=False),
                    )
                ],
                heading="Reported patients",
            ),
            ObjectList(
                [
                    FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
                    FieldRowPanel([FieldPanel("is_demo"), FieldPanel("retracted")]),
                    FieldPanel("notes"),
                    FieldPanel("source_urls"),
                ],
                heading="Curation",
            ),
        ],
        base_form_class=PublicationForm,
    )


# --- reported patients -----------------------------------------------------------------------


class PatientFilterSet(WagtailFilterSet):
    class Meta:
        model = ReportedPatient
        fields = {
            "topic": ["exact"],
            "is_demo": ["exact"],
            "verified": ["exact"],
            "response": ["exact"],
            "setting": ["exact"],
            "lesion_depth": ["exact"],
            "surgery_candidate": ["exact"],
            "publication__year": ["exact"],
            "publication__retracted": ["exact"],
        }


class PatientIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[ReportedPatient]:
        return super().get_base_queryset().select_related("publication", "topic")

    @cached_property
    def header_buttons(self) -> list[Any]:
        buttons = list(super().header_buttons)
        if all(self.user_has_permission(action) for action in REQUIRED_PERMISSIONS):
            buttons.append(
                HeaderButton(
                    "Import from spreadsheet",
                    url=reverse("reportedpatient:import"),
                    icon_name="upload",
                )
            )
        return buttons


class PatientEditView(EvidenceEditView):
    @property
    def header_buttons(self) -> list[Any]:
        return [
            HeaderButton(
                "Publication",
                url=reverse("publication:edit", args=[self.object.publication_id]),
                icon_name="doc-full",
            )
        ]


class ReportedPatientViewSet(ModelViewSet):
    model = ReportedPatient
    # The URL namespace: ReportedPatient.get_absolute_url reverses "reportedpatient:edit".
    name = "reportedpatient"
    icon = "user"
    menu_label = "Reported patients"
    index_view_class = PatientIndexView
    edit_view_class = PatientEditView
    delete_view_class = EvidenceDeleteView
    edit_template_name = "evidence/admin/edit.html"
    copy_view_enabled = False
    ordering = ["publication__title", "label"]
    list_display = [
        TitleColumn("label", label="Case", url_name="reportedpatient:edit", width="16%"),
        Column("publication", label="Publication", sort_key="publication__title"),
        "topic",
        "response",
        "setting",
        "site",
        BooleanColumn("verified", label="Verified"),
        demo_column(),
    ]
    filterset_class = PatientFilterSet
    search_fields = [
        "label",
        "site",
        "publication__title",
        "publication__pmid",
        "publication__doi",
    ]
    search_backend_name = None
    panels = patient_panels(with_publication=True)

    @property
    def import_view(self) -> Any:
        return self.construct_view(CaseImportView, index_url_name=self.get_url_name("index"))

    def get_urlpatterns(self) -> list[Any]:
        return [*super().get_urlpatterns(), path("import/", self.import_view, name="import")]


# --- the rest of the evidence base -----------------------------------------------------------


class AppraisalViewSet(ModelViewSet):
    model = Appraisal
    icon = "tasks"
    menu_label = "JBI appraisals"
    edit_view_class = EvidenceEditView
    delete_view_class = EvidenceDeleteView
    edit_template_name = "evidence/admin/edit.html"
    copy_view_enabled = False
    list_display = [
        TitleColumn("publication", label="Publication", url_name="appraisal:edit", width="50%"),
        Column("yes_count", label="Items met (of 8)"),
        "appraiser",
        demo_column("publication.is_demo"),
    ]
    list_filter = {
        "publication__topics": ["exact"],
        "publication__is_demo": ["exact"],
        **{name: ["exact"] for name, _ in Appraisal.ITEMS},
    }
    search_fields = ["publication__title", "publication__pmid", "publication__doi", "appraiser"]
    search_backend_name = None
    panels = [
        FieldPanel("publication", widget=PublicationChooserWidget),
        MultiFieldPanel(
            [FieldPanel(name, widget=forms.RadioSelect) for name, _ in Appraisal.ITEMS],
            heading="JBI checklist for case reports",
        ),
        FieldPanel("appraiser"),
        FieldPanel("notes"),
    ]


class TreatmentViewSet(ModelViewSet):
    model = Treatment
    icon = "pick"
    menu_label = "Treatments"
    copy_view_enabled = False
    list_display = [TitleColumn("name", label="Treatment", url_name="treatment:edit"), "category"]
    list_filter = ["category"]
    search_fields = ["name", "slug"]
    search_backend_name = None
    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("category")]


class ResearchQuestionViewSet(ModelViewSet):
    model = ResearchQuestion
    icon = "help"
    menu_label = "Research questions"
    copy_view_enabled = False
    sort_order_field = None
    list_display = [
        TitleColumn("question", label="Question", url_name="researchquestion:edit"),
        "topic",
        "measure",
        "sort_order",
    ]
    list_filter = ["topic", "measure"]
    search_fields = ["question", "note"]
    search_backend_name = None
    panels = [
        FieldPanel("topic"),
        FieldPanel("question"),
        FieldPanel("measure"),
        FieldPanel("note"),
        FieldPanel("sort_order"),
    ]


class EvidenceFactViewSet(ModelViewSet):
    """Facts read in a source (mechanism, side effects and how often), quoted by summaries."""

    model = EvidenceFact
    icon = "openquote"
    menu_label = "Facts from sources"
    edit_view_class = EvidenceEditView
    delete_view_class = EvidenceDeleteView
    edit_template_name = "evidence/admin/edit.html"
    copy_view_enabled = False
    sort_order_field = None
    list_display = [
        TitleColumn("statement", label="Statement", url_name="evidencefact:edit", width="45%"),
        "kind",
        "topic",
        Column("publication", label="Source", sort_key="publication__title"),
        demo_column("publication.is_demo"),
    ]
    list_filter = {"topic": ["exact"], "kind": ["exact"], "publication__is_demo": ["exact"]}
    search_fields = ["statement", "key", "quote", "publication__title", "publication__pmid"]
    search_backend_name = None
    panels = [
        FieldRowPanel([FieldPanel("topic"), FieldPanel("kind"), FieldPanel("key")]),
        FieldPanel("publication", widget=PublicationChooserWidget),
        FieldPanel("statement"),
        FieldRowPanel(
            [
                FieldPanel("value"),
                FieldPanel("unit"),
                FieldPanel("count"),
                FieldPanel("denominator"),
            ]
        ),
        FieldPanel("quote"),
        FieldPanel("sort_order"),
    ]


class EvidenceViewSetGroup(ModelViewSetGroup):
    menu_label = "Evidence"
    menu_icon = "table"
    menu_order = 200
    items = (
        TopicViewSet,
        PublicationViewSet,
        ReportedPatientViewSet,
        AppraisalViewSet,
        ResearchQuestionViewSet,
        EvidenceFactViewSet,
        TreatmentViewSet,
    )
