import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { SessionProvider } from "../auth/session";
import { json, stubFetch } from "../test/fetch";
import { AuditPage } from "./Audit";

const ME = {
  id: "a1",
  email: "grace@example.com",
  display_name: "Grace",
  role: "admin",
  mfa_enabled: true,
  email_verified: true,
};
const RECORD = {
  id: 7,
  at: "2026-11-30T09:13:02Z",
  actor_id: "p1",
  action: "admin.access",
  resource_type: "admin",
  resource_id: null,
  outcome: "denied",
  client_address: "203.0.113.7",
  request_id: "r1",
  actor_email: "pat@example.com",
  actor_name: "Pat",
  what: "Opened the admin area (denied)",
  subject_name: null,
  subject_email: null,
};
const LOCKED = {
  ...RECORD,
  id: 8,
  actor_id: "a1",
  action: "admin.user.lock",
  resource_type: "user",
  resource_id: "p1",
  outcome: "success",
  actor_email: "grace@example.com",
  actor_name: "Grace",
  what: "Locked an account",
  subject_name: "Pat",
  subject_email: "pat@example.com",
};

afterEach(() => vi.unstubAllGlobals());

describe("the audit log", () => {
  it("shows who and what in words, filters by address and outcome, and exports CSV", async () => {
    vi.stubGlobal(
      "URL",
      Object.assign(URL, { createObjectURL: () => "blob:x", revokeObjectURL: () => {} }),
    );
    const calls = stubFetch((call) => {
      if (call.url === "/api/auth/me") return json(200, ME);
      if (call.url === "/api/admin/audit/actions")
        return json(200, [{ action: "admin.user.lock", what: "Locked an account" }]);
      if (call.url.startsWith("/api/admin/audit/csv"))
        return new Response("id,at\n7,2026-11-30\n", { headers: { "Content-Type": "text/csv" } });
      return json(200, { items: [RECORD, LOCKED], total: 2, limit: 50, offset: 0 });
    });
    render(
      <MemoryRouter>
        <SessionProvider>
          <AuditPage />
        </SessionProvider>
      </MemoryRouter>,
    );
    const user = userEvent.setup();
    const row = (await screen.findByText("Opened the admin area (denied)")).closest("tr")!;
    expect(within(row).getByText("pat@example.com")).toBeInTheDocument();
    expect(within(row).getByText("Refused")).toBeInTheDocument();
    expect(row).toHaveClass("refused");
    // Whom an action touched, by name and address.
    const locked = screen.getByRole("table").querySelector("tr:nth-child(2)")! as HTMLElement;
    expect(locked).toHaveTextContent("Locked an account");
    expect(within(locked).getAllByText("pat@example.com")).toHaveLength(1);
    expect(within(locked).getByText("Pat")).toBeInTheDocument();
    const outcomes = within(screen.getByLabelText("Outcome")).getAllByRole("option");
    expect(outcomes.map((o) => o.textContent).slice(0, 2)).toEqual(["Any outcome", "Denied"]);
    await user.type(screen.getByLabelText("Who (email contains)"), "pat");
    await user.selectOptions(screen.getByLabelText("Outcome"), "denied");
    // Actions are chosen by their words.
    await screen.findByRole("option", { name: "Locked an account" });
    await user.selectOptions(screen.getByLabelText("What was done"), "Locked an account");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.click(screen.getByRole("button", { name: "Export these records (CSV)" }));
    const searched = calls.filter((c) => c.url.startsWith("/api/admin/audit?")).at(-1);
    expect(searched?.url).toContain("email=pat");
    expect(searched?.url).toContain("outcome=denied");
    expect(searched?.url).toContain("action=admin.user.lock");
    const exported = calls.find((c) => c.url.startsWith("/api/admin/audit/csv"));
    expect(exported?.url).toContain("/api/admin/audit/csv?email=pat");
    expect(exported?.url).toContain("outcome=denied");
  });
});
