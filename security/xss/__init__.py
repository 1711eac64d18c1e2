"""The stored-XSS corpus of plan test D1: payloads, the page scanner and the seeding."""
