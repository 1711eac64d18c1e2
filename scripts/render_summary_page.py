"""Render page 1 of a tailored summary's PDF as a PNG for docs/summaries.md.

    .venv/bin/python scripts/render_summary_page.py [--out docs/images/summary-pdf.png]

Builds a throwaway SQLite database, loads the demo (invented cases, labelled), drafts a summary
for one reader (a caregiver asking whether the cream could replace more radiotherapy), and
writes:
- the PDF exactly as EvidencePress sends it (`summaries.delivery.summary_pdf`), next to the PNG;
- the same HTML in Chromium with print media and an A4 page width, screenshot to the PNG (no PDF
  rasteriser is installed; the PDF and the print view share the template and the stylesheets).
Nothing is sent and nothing is kept but the two files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthesis import setup_django  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/summary-pdf.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ep-summary-page-") as tmp:
        setup_django(Path(tmp) / "page.sqlite3")
        from django.template.loader import render_to_string
        from django.utils import timezone

        from evidencepress.demo.loader import DEMO_TOPIC_SLUG, load_demo
        from evidencepress.evidence.models import Topic
        from evidencepress.summaries.delivery import _context, summary_pdf
        from evidencepress.summaries.evidence_inputs import draft_for_topic
        from evidencepress.summaries.matching import Situation
        from evidencepress.summaries.models import SummaryRequest

        load_demo()
        topic = Topic.objects.get(slug=DEMO_TOPIC_SLUG)
        if not getattr(topic, "definition", None):  # a checkout where Topic stores none yet
            import json

            path = ROOT / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
            topic.definition = json.loads(path.read_text(encoding="utf-8"))
        situation = Situation(
            setting="radiation",
            site="left breast",
            lesion_size_mm=40,
            lesion_count=1,
            lesion_depth="superficial",
            surgery_possible=None,
            prior_treatments=("surgery", "radiotherapy"),
            current_treatments=(),
            question="Could the cream replace more radiation for my mum?",
            detail="short",
            for_whom="other",
        )
        draft = draft_for_topic(topic, replace(situation))
        now = timezone.now()
        summary_request = SummaryRequest(
            topic=topic,
            email="reader@example.org",
            situation={},
            detail="short",
            consent_version="docs",
            consented_at=now,
            submitted_at=now,
            drafted_text=draft.text,
            draft_contains_demo=draft.contains_demo,
            drafted_at=now,
            editor_approved_at=now,
            clinician_approved_at=now,
        )
        pdf = summary_pdf(summary_request)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".pdf").write_bytes(pdf)
        html = render_to_string("summaries/summary_pdf.html", _context(summary_request, None))

        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 794, "height": 1123})
            page.emulate_media(media="print")
            page.set_content(html, wait_until="load")
            # Chromium draws no @page margins in a screenshot: the PDF's margins, as padding.
            page.add_style_tag(content="body { padding: 18mm 16mm; }")
            page.screenshot(path=str(args.out), full_page=False)
            browser.close()
    print(f"wrote {args.out} and {args.out.with_suffix('.pdf')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
