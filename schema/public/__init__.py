"""Public services: applications, the program constructor and expert review, surveys
(`graph/public_services`). Anonymous submissions are rate-limited (`ratelimit.py`)."""
