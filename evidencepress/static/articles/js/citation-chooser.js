/*
 * Draftail "Citation" entity: cite a publication inside a sentence of rich text.
 *
 * The toolbar button opens the evidence app's publication chooser (a Wagtail ChooserViewSet).
 * The chosen publication is stored as <a linktype="publication" id="…"> by
 * evidencepress/articles/rich_text.py; in the editor the cited words show the document-link
 * style and a tooltip naming the publication, or a warning when it no longer exists.
 * React is not a global in the Wagtail admin, so the decorator reuses Wagtail's own
 * document-link decorator and only changes the label it shows.
 */
(function registerCitation() {
  'use strict';

  var draftail = window.draftail;
  if (!draftail || !draftail.ModalWorkflowSource || !draftail.registerPlugin) {
    return;
  }

  var documentDecorator = null;

  function shortLabel(title) {
    // "Zhang 2023: Rare cutaneous…" → "Zhang 2023", used as the words when none are selected.
    var label = String(title || '');
    var colon = label.indexOf(':');
    return colon > 0 ? label.slice(0, colon) : label;
  }

  class CitationSource extends draftail.ModalWorkflowSource {
    getChooserConfig() {
      var urls = (this.props.entityType && this.props.entityType.chooserUrls) || {};
      return {
        url: urls.publicationChooser,
        urlParams: {},
        onload: window.CHOOSER_MODAL_ONLOAD_HANDLERS,
        responses: { chosen: this.onChosen },
      };
    }

    onChosen(data) {
      // With nothing selected, Wagtail inserts the chosen item's title as the linked words:
      // a short "Author Year" reads better inside a sentence than a full title.
      var collapsed = this.props.editorState.getSelection().isCollapsed();
      super.onChosen(collapsed ? Object.assign({}, data, { title: shortLabel(data.title) }) : data);
    }

    filterEntityData(data) {
      var entityType = this.props.entityType || {};
      var pattern = String(entityType.publicationUrl || '');
      var url = pattern.replace(String(entityType.urlSentinel), String(data.id));
      return { id: Number(data.id), url: url, label: data.title };
    }
  }

  function Citation(props) {
    if (!documentDecorator) {
      return props.children;
    }
    var data = props.contentState.getEntity(props.entityKey).getData();
    var element = documentDecorator(props);
    var label = data.url
      ? 'Citation: ' + (data.label || 'publication ' + data.id)
      : 'Missing publication (id ' + data.id + '): remove this citation or choose another';
    if (!element || !element.props) {
      return element;
    }
    return Object.assign({}, element, { props: Object.assign({}, element.props, { label: label }) });
  }

  var registry = draftail.registerPlugin(
    { type: 'CITATION', source: CitationSource, decorator: Citation },
    'entityTypes',
  );
  documentDecorator = registry && registry.DOCUMENT ? registry.DOCUMENT.decorator : null;
})();
