import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { AppRoutes } from "../App";
import { apiError, json, stubFetch } from "../test/fetch";
import { SessionProvider } from "./session";

const ADMIN = {
  id: "a1",
  email: "grace@example.com",
  display_name: "Grace",
  role: "admin",
  mfa_enabled: true,
};
const COUNTERS = {
  active_sessions: 1,
  requests_per_minute: 2,
  logins_per_minute: 1,
  failed_logins_per_minute: 0,
};

afterEach(() => vi.unstubAllGlobals());

function renderAt(path: string) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <SessionProvider>
        <AppRoutes />
      </SessionProvider>
    </MemoryRouter>,
  );
}

describe("the session check", () => {
  it("says a refused check is not a sign-out, and tries again on request", async () => {
    let checks = 0;
    stubFetch((call) => {
      if (call.url === "/api/auth/me") {
        checks += 1;
        return checks === 1
          ? json(429, apiError("rate_limited", "Too many requests."), { "Retry-After": "3" })
          : json(200, ADMIN);
      }
      return json(200, COUNTERS);
    });
    renderAt("/admin");
    expect(await screen.findByText("We could not check your sign-in")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Please wait 3 seconds");
    expect(screen.queryByLabelText("Email")).not.toBeInTheDocument(); // not sent to sign-in
    await userEvent.setup().click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
  });

  it("says so when the service cannot be reached", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    renderAt("/");
    expect(await screen.findByText("We could not check your sign-in")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Connection problem");
  });

  it("sends a visitor the API does not know to sign-in", async () => {
    stubFetch(() => json(401, apiError("unauthenticated", "Sign in first.")));
    renderAt("/");
    expect(await screen.findByLabelText("Email")).toBeInTheDocument();
  });
});
