import { render, screen } from "@testing-library/react";
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
