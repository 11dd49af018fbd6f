import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { AppRoutes } from "../App";
import { SessionProvider } from "../auth/session";
import { apiError, json, stubFetch } from "../test/fetch";
import { safeNext } from "./SignIn";

const ADMIN = {
  id: "a1",
  email: "grace@example.com",
  display_name: "Grace",
  role: "admin",
  mfa_enabled: true,
};

function renderAt(path: string) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <SessionProvider>
        <AppRoutes />
      </SessionProvider>
    </MemoryRouter>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("sign-in", () => {
  it("asks for the TOTP code when the account has a second factor, then signs in", async () => {
    const calls = stubFetch((call) => {
      if (call.url === "/api/auth/me")
        return json(401, apiError("unauthenticated", "Sign in first."));
      if (call.url === "/api/admin/counters") {
        return json(200, {
          active_sessions: 1,
          requests_per_minute: 2,
          logins_per_minute: 1,
          failed_logins_per_minute: 0,
        });
      }
      const body = call.body as { totp?: string };
      return body.totp
        ? json(200, { user: ADMIN, csrf_token: "t", mfa_enrollment_required: false })
        : json(
            401,
            apiError("mfa_required", "Enter the 6-digit code from your authenticator app."),
          );
    });
    renderAt("/signin");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Email"), ADMIN.email);
    await user.type(screen.getByLabelText("Password"), "correct horse battery staple");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(
      await screen.findByText("Enter the 6-digit code from your authenticator app."),
    ).toBeInTheDocument();
    await user.type(screen.getByLabelText("Authentication code"), "12a3456");
    expect(screen.getByLabelText("Authentication code")).toHaveValue("123456"); // digits only
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
    const logins = calls.filter((c) => c.url === "/api/auth/login").map((c) => c.body);
    expect(logins[1]).toEqual({
      email: ADMIN.email,
      password: "correct horse battery staple",
      totp: "123456",
    });
  });

  it("says why when the password is wrong, and keeps what was typed", async () => {
    stubFetch((call) =>
      call.url === "/api/auth/me"
        ? json(401, apiError("unauthenticated", "Sign in first."))
        : json(401, apiError("invalid_credentials", "Email or password is wrong.")),
    );
    renderAt("/signin");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Email or password is wrong.");
    expect(screen.getByLabelText("Email")).toHaveValue("ada@example.com");
  });

  it("sends an anonymous visitor of a page to sign-in, and remembers the page", async () => {
    stubFetch(() => json(401, apiError("unauthenticated", "Sign in first.")));
    renderAt("/documents");
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
  });

  it("only follows `next` inside the application", () => {
    expect(safeNext("/documents")).toBe("/documents");
    expect(safeNext("//evil.example")).toBeNull();
    expect(safeNext("https://evil.example")).toBeNull();
    expect(safeNext(null)).toBeNull();
  });
});
