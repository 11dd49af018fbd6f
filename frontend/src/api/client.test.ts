import { afterEach, describe, expect, it, vi } from "vitest";

import { apiError, json, stubFetch } from "../test/fetch";
import { ApiError, NetworkError, request, whenSessionEnds } from "./client";

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = "hp_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  whenSessionEnds(() => {});
});

describe("request", () => {
  it("sends the CSRF token from its cookie on every request, safe ones too", async () => {
    document.cookie = "hp_csrf=token%2Fwith%3Dsigns";
    const calls = stubFetch(() => json(200, { ok: true }));
    await request("/api/observations");
    await request("/api/observations", { method: "POST", json: { a: 1 } });
    expect(calls.map((c) => c.headers["X-CSRF-Token"])).toEqual([
      "token/with=signs",
      "token/with=signs",
    ]);
    expect(calls[1]?.headers["Content-Type"]).toBe("application/json");
    expect(calls[1]?.body).toEqual({ a: 1 });
  });

  it("leaves out empty query parameters", async () => {
    const calls = stubFetch(() => json(200, {}));
    await request("/api/observations", {
      query: { type: "heart_rate", from: undefined, to: "", limit: 20 },
    });
    expect(calls[0]?.url).toBe("/api/observations?type=heart_rate&limit=20");
  });

  it("turns the API's error body into an ApiError with its fields", async () => {
    stubFetch(() =>
      json(
        422,
        apiError("invalid_observation", "Heart rate must be between 20 and 300 /min.", [
          { field: "value", problem: "Heart rate must be between 20 and 300 /min" },
        ]),
      ),
    );
    const error = await request("/api/observations").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiErr = error as ApiError;
    expect(apiErr.status).toBe(422);
    expect(apiErr.code).toBe("invalid_observation");
    expect(apiErr.problemWith("value")).toBe("Heart rate must be between 20 and 300 /min");
  });

  it("reads the wait from Retry-After on 429", async () => {
    stubFetch(() =>
      json(429, apiError("rate_limited", "Too many requests"), { "Retry-After": "42" }),
    );
    const error = (await request("/api/x").catch((e: unknown) => e)) as ApiError;
    expect(error.retryAfterSeconds).toBe(42);
  });

  it("gives a plain message when a proxy answers without the API's body", async () => {
    stubFetch(() => new Response("<html>Bad gateway</html>", { status: 502 }));
    const error = (await request("/api/x").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.message).toBe("The service is having trouble; try again shortly.");
  });

  it("says so when the network fails", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))),
    );
    await expect(request("/api/x")).rejects.toBeInstanceOf(NetworkError);
  });

  it("reports an ended session, but not a wrong password, to the session listener", async () => {
    const ended = vi.fn();
    whenSessionEnds(ended);
    stubFetch((call) =>
      call.url === "/api/auth/login"
        ? json(401, apiError("invalid_credentials", "Email or password is wrong."))
        : json(401, apiError("unauthenticated", "Sign in first.")),
    );
    await request("/api/auth/login", { method: "POST", json: {} }).catch(() => {});
    expect(ended).not.toHaveBeenCalled();
    await request("/api/observations").catch(() => {});
    expect(ended).toHaveBeenCalledOnce();
  });

  it("resolves 204 with nothing", async () => {
    stubFetch(() => new Response(null, { status: 204 }));
    await expect(request("/api/auth/logout", { method: "POST" })).resolves.toBeUndefined();
  });
});
