"""Read-only JSON API for published topics: the synthesis and the case table (docs/api.md).

    urls.py        the routes under /api/v1/
    views.py       the views: thin, every answer built through a model of schema.py
    schema.py      the answers' pydantic models and the OpenAPI 3.1 document generated from them
    throttling.py  requests per client address (core.ratelimit, a store all processes share)

`ApiError` (evidence/exceptions.py) stays importable from here.
"""

from ..exceptions import ApiError as ApiError
