"""SQLite soak (plan G1, nightly): 200 readers and 10 writers against gunicorn on loopback.

Readers fetch the home page, search, the feeds and the sitemap. Writers submit summary
requests with a unique email address each and append every acknowledged one (a redirect to
the "sent" page) to $SOAK_ACKS, so the runner can count lost writes afterwards.
"""

from __future__ import annotations

import os
import re
import uuid

from locust import HttpUser, between, task

ACKS = os.environ.get("SOAK_ACKS", "var/security-full/acks.txt")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOPIC = re.compile(r'<select name="topic".*?<option value="([^"]+)"', re.S)


class Reader(HttpUser):
    weight = 20
    wait_time = between(0.1, 0.5)

    @task(5)
    def home(self) -> None:
        self.client.get("/")

    @task(2)
    def search(self) -> None:
        self.client.get("/search/", params={"q": "imiquimod"}, name="/search/?q=")

    @task(1)
    def feed(self) -> None:
        self.client.get("/feeds/articles.xml")

    @task(1)
    def sitemap(self) -> None:
        self.client.get("/sitemap.xml")


class Writer(HttpUser):
    weight = 1
    wait_time = between(0.2, 1.0)

    @task
    def submit_request(self) -> None:
        form = self.client.get("/summaries/request/", name="/summaries/request/ (form)")
        token = CSRF.search(form.text)
        topic = TOPIC.search(form.text)
        if token is None or topic is None:
            form.failure("request form without a CSRF token or a topic")
            return
        email = f"soak-{uuid.uuid4().hex}@example.org"
        with self.client.post(
            "/summaries/request/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "topic": topic.group(1),
                "setting": "scalp_face",
                "site": "scalp",
                "lesion_size_mm": "15",
                "lesion_count": "1",
                "lesion_depth": "superficial",
                "surgery_possible": "no",
                "question": "Soak test question",
                "detail": "short",
                "email": email,
                "consent": "on",
            },
            headers={"Referer": self.host + "/summaries/request/"},
            allow_redirects=False,
            catch_response=True,
            name="/summaries/request/ (submit)",
        ) as response:
            if response.status_code == 302 and "sent" in response.headers.get("Location", ""):
                with open(ACKS, "a", encoding="ascii") as acks:
                    acks.write(email + "\n")
                response.success()
            else:
                response.failure(f"not acknowledged: {response.status_code}")
