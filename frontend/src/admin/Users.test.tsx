import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { SessionProvider } from "../auth/session";
import { json, stubFetch } from "../test/fetch";
import { UsersPage } from "./Users";

const ME = {
  id: "a1",
  email: "grace@example.com",
  display_name: "Grace",
  role: "admin",
  mfa_enabled: true,
};
const PAT = {
  id: "p1",
  email: "pat@example.com",
  display_name: "Pat",
  role: "patient",
  locked: false,
  mfa_enabled: false,
  created_at: "2026-11-01T10:00:00Z",
};

afterEach(() => vi.unstubAllGlobals());

describe("users", () => {
  it("changes a role only after it is confirmed", async () => {
    const calls = stubFetch((call) => {
      if (call.url === "/api/auth/me") return json(200, ME);
      if (call.method === "PUT") return json(200, { ...PAT, role: "admin" });
      return json(200, {
        items: [{ ...ME, locked: false, created_at: PAT.created_at }, PAT],
        total: 2,
      });
    });
    render(
      <MemoryRouter>
        <SessionProvider>
          <UsersPage />
        </SessionProvider>
      </MemoryRouter>,
    );
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Role of pat@example.com"), "admin");
    expect(calls.filter((c) => c.method === "PUT")).toHaveLength(0);
    expect(screen.getByRole("alertdialog")).toHaveTextContent(
      "Make pat@example.com an administrator?",
    );
    await user.click(screen.getByRole("button", { name: "Change role" }));
    expect(await screen.findByText("pat@example.com is now an administrator.")).toBeInTheDocument();
    const change = calls.find((c) => c.method === "PUT");
    expect(change).toMatchObject({ url: "/api/admin/users/p1/role", body: { role: "admin" } });
    expect(screen.getByLabelText("Role of grace@example.com")).toBeDisabled(); // not one's own
  });
});

describe("the second factor and the last sign-in", () => {
  it("shows when each account last signed in, and resets a second factor after asking", async () => {
    const withFactor = {
      ...PAT,
      id: "p2",
      email: "kim@example.com",
      mfa_enabled: true,
      email_verified: true,
      last_sign_in_at: "2026-11-29T19:30:00Z",
    };
    const calls = stubFetch((call) => {
      if (call.url === "/api/auth/me") return json(200, ME);
      if (call.method === "POST") return json(200, { ...withFactor, mfa_enabled: false });
      return json(200, {
        items: [{ ...PAT, email_verified: false, last_sign_in_at: null }, withFactor],
        total: 2,
      });
    });
    render(
      <MemoryRouter>
        <SessionProvider>
          <UsersPage />
        </SessionProvider>
      </MemoryRouter>,
    );
    const user = userEvent.setup();
    const kim = (await screen.findByText("kim@example.com")).closest("tr")!;
    const pat = screen.getByText("pat@example.com").closest("tr")!;
    expect(within(pat).getByText("Never")).toBeInTheDocument();
    expect(within(pat).getByText("Email not confirmed")).toBeInTheDocument();
    expect(within(pat).queryByRole("button", { name: "Reset second factor" })).toBeNull();
    await user.click(within(kim).getByRole("button", { name: "Reset second factor" }));
    await user.click(within(kim).getAllByRole("button", { name: "Reset second factor" })[1]!);
    expect(
      await screen.findByText("kim@example.com's second factor is reset."),
    ).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST")?.url).toBe("/api/admin/users/p2/mfa/reset");
  });
});
