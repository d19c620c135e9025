"""The CRPS symptom diary bot."""

import os

# Opt in to PTB's coming behaviour now: time spans (e.g. RetryAfter.retry_after) as timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")
