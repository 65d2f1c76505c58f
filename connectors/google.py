"""The Google APIs family: GA4 (Analytics Data API) and YouTube (Analytics and Data APIs).

What they share, in one place:
- the error envelope `{"error": {"code", "message", "status"}}` (`GoogleDialect`):
  429 RESOURCE_EXHAUSTED is a throttle (hourly quota) unless it is the daily
  quota (permanent: it refills at midnight Pacific, waiting is no plan);
  UNAVAILABLE/INTERNAL/DEADLINE_EXCEEDED and 5xx are transient; 401
  UNAUTHENTICATED is credentials;
- YouTube's extension of it (`YoutubeDialect`), `errors[].reason`:
  `quotaExceeded` is the DAILY quota, `rateLimitExceeded` a throttle, and an
  "Unknown identifier ... metrics" 400 a removed metric, named;
- auth: an OAuth access token as `Authorization: Bearer` (`GoogleConnector`).
"""

from __future__ import annotations

import re
from typing import Any

import requests

from connectors.base import Connector
from connectors.http import ApiClient, Dialect, Verdict, retry_after

_UNKNOWN_METRIC = re.compile(r"Unknown identifier \(([^)]+)\) given in field parameters\.metrics")


class GoogleDialect(Dialect):
    """Google's error envelope: {"error": {"code", "message", "status"}}."""

    def classify(self, response: requests.Response, body: Any) -> Verdict:
        if response.status_code < 400:
            return Verdict("ok")
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return super().classify(response, body)
        status_name = error.get("status") or error.get("code")
        message = str(error.get("message", ""))
        code = response.status_code
        if status_name == "RESOURCE_EXHAUSTED" or code == 429:
            if "per day" in message.lower():
                # The daily quota refills at midnight Pacific: waiting is no plan.
                return Verdict("permanent", code, status_name, message)
            return Verdict("throttle", code, status_name, message, retry_after(response))
        if status_name in ("UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED") or code >= 500:
            return Verdict("retry", code, status_name, message, retry_after(response))
        if status_name == "UNAUTHENTICATED" or code == 401:
            return Verdict("auth", code, status_name, message)
        return Verdict("permanent", code, status_name, message)


class YoutubeDialect(GoogleDialect):
    """Google's envelope plus YouTube's `errors[].reason` and its metric errors."""

    def classify(self, response: requests.Response, body: Any) -> Verdict:
        error = body.get("error") if isinstance(body, dict) else None
        if response.status_code < 400 or not isinstance(error, dict):
            return super().classify(response, body)
        reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
        message = str(error.get("message", ""))
        status = response.status_code
        if reasons & {"quotaExceeded", "dailyLimitExceeded"}:
            return Verdict(
                "permanent", status, "quotaExceeded",
                f"the project's DAILY YouTube API quota is spent (it resets at midnight Pacific time); "
                f"waiting minutes will not help: {message}",
            )
        if reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
            return Verdict("throttle", status, "rateLimitExceeded", message, retry_after(response))
        unknown = _UNKNOWN_METRIC.search(message)
        if unknown:
            return Verdict(
                "permanent", status, error.get("status") or "badRequest",
                f"YouTube Analytics rejects metric {unknown.group(1)!r} (removed or renamed): {message}",
            )
        return super().classify(response, body)


class GoogleConnector(Connector):
    """A Google API channel: a Bearer access token and the channel's Google dialect."""

    platform = "Google"
    dialect: type[GoogleDialect] = GoogleDialect

    def make_client(self) -> ApiClient:
        return self.bearer_client(self.dialect())
