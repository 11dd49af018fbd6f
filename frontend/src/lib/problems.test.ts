import { describe as group, expect, it } from "vitest";

import { ApiError, NetworkError } from "../api/client";
import { describe } from "./problems";

group("describe", () => {
  it("gives the wait time of a 429 in seconds or minutes", () => {
    expect(describe(new ApiError(429, "rate_limited", "x", [], 42)).message).toContain(
      "wait 42 seconds",
    );
    expect(describe(new ApiError(429, "rate_limited", "x", [], 1)).message).toContain(
      "wait 1 second ",
    );
    expect(describe(new ApiError(429, "rate_limited", "x", [], 600)).message).toContain(
      "wait 10 minutes",
    );
    expect(describe(new ApiError(429, "rate_limited", "x", [], 30)).retryable).toBe(true);
  });

  it("sorts 403, 404, network failures and server errors", () => {
    expect(describe(new ApiError(403, "forbidden", "Administrators only.")).kind).toBe("forbidden");
    expect(describe(new ApiError(404, "not_found", "No such document.")).title).toBe("Not found");
    expect(describe(new NetworkError())).toMatchObject({ kind: "network", retryable: true });
    expect(
      describe(new ApiError(503, "unavailable", "The database is unavailable.")),
    ).toMatchObject({
      title: "The service is briefly unavailable",
      retryable: true,
    });
    expect(
      describe(new ApiError(409, "mfa_enrolled", "A second factor is already enrolled.")),
    ).toMatchObject({
      title: "Two-step sign-in is already on",
      message: "A second factor is already enrolled.",
      retryable: false,
    });
  });

  it("titles every error in plain words, a code it does not know by its status", () => {
    const invalid = new ApiError(422, "invalid_request", "Please check: value must be a number.");
    expect(describe(invalid).title).toBe("Please check what you entered");
    expect(describe(new ApiError(418, "teapot", "Short and stout.")).title).toBe(
      "That did not work",
    );
    expect(describe(new ApiError(502, "bad_gateway", "Upstream.")).title).toBe(
      "The service had a problem",
    );
  });
});
