import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { AppRoutes } from "../App";
import { SessionProvider } from "../auth/session";
import { apiError, json, stubFetch } from "../test/fetch";
import type { Call } from "../test/fetch";
import { TYPES } from "../test/fixtures";
import { deviceName } from "./Security";

const PATIENT = {
  id: "p1",
  email: "ada@example.com",
  display_name: "Ada",
  role: "patient",
  mfa_enabled: true,
  email_verified: true,
};
const SESSIONS = [
  {
    id: "s-here",
    signed_in_at: "2026-11-30T08:00:00Z",
    address: "203.0.113.7",
    agent: "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
    current: true,
  },
  {
    id: "s-phone",
    signed_in_at: "2026-11-29T19:30:00Z",
    address: "198.51.100.4",
    agent:
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    current: false,
  },
];

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

function answering(user: object | null, routes: Record<string, (call: Call) => Response>): Call[] {
  return stubFetch((call) => {
    const path = call.url.split("?")[0] ?? "";
    const route = routes[`${call.method} ${path}`];
    if (route) return route(call);
    if (path === "/api/auth/me")
      return user ? json(200, user) : json(401, apiError("unauthenticated", "Sign in first."));
    return json(404, apiError("not_found", `No route ${call.method} ${path}.`));
  });
}

describe("sign-in and security", () => {
  it("names devices as people do", () => {
    expect(deviceName(SESSIONS[0]!.agent)).toBe("Firefox on Linux");
    expect(deviceName(SESSIONS[1]!.agent)).toBe("Safari on iPhone");
    expect(deviceName(null)).toBe("Unknown device");
  });

  it("changes the password, saying what the API refused next to the field", async () => {
    const calls = answering(PATIENT, {
      "GET /api/account/sessions": () => json(200, SESSIONS),
      "POST /api/account/password": (call) =>
        (call.body as { current_password: string }).current_password === "wrong"
          ? json(
              403,
              apiError("wrong_password", "The current password is not right.", [
                { field: "current_password", problem: "is not your password" },
              ]),
            )
          : new Response(null, { status: 204 }),
    });
    renderAt("/security");
    const user = userEvent.setup();
    const form = (await screen.findByRole("heading", { name: "Password" })).closest("form")!;
    await user.type(within(form).getByLabelText("Current password"), "wrong");
    await user.type(within(form).getByLabelText("New password"), "staple orbit lantern");
    await user.type(within(form).getByLabelText("New password, again"), "staple orbit lantern");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    expect(await within(form).findByText("This is not your password.")).toBeInTheDocument();
    expect(within(form).getByRole("alert")).toHaveTextContent("Wrong password");
    await user.clear(within(form).getByLabelText("Current password"));
    await user.type(within(form).getByLabelText("Current password"), "right one");
    await user.click(within(form).getByRole("button", { name: "Change password" }));
    expect(await within(form).findByRole("status")).toHaveTextContent("Your password is changed");
    expect(calls.filter((c) => c.url === "/api/account/password")).toHaveLength(2);
  });

  it("lists where one is signed in and signs out a device", async () => {
    let listed = SESSIONS;
    const calls = answering(PATIENT, {
      "GET /api/account/sessions": () => json(200, listed),
      "DELETE /api/account/sessions/s-phone": () => {
        listed = SESSIONS.slice(0, 1);
        return new Response(null, { status: 204 });
      },
    });
    renderAt("/security");
    const user = userEvent.setup();
    const phone = (await screen.findByText("Safari on iPhone")).closest("li")!;
    expect(within(phone).getByText("From 198.51.100.4")).toBeInTheDocument();
    expect(screen.getByText("This device")).toBeInTheDocument();
    await user.click(within(phone).getByRole("button", { name: "Sign out" }));
    expect(await screen.findByText("Firefox on Linux")).toBeInTheDocument();
    expect(screen.queryByText("Safari on iPhone")).not.toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE")).toBe(true);
  });

  it("shows new recovery codes once, after asking", async () => {
    answering(PATIENT, {
      "GET /api/account/sessions": () => json(200, SESSIONS),
      "POST /api/account/recovery-codes": () =>
        json(200, { codes: ["k7hm-2qpx-9wzt", "b3nd-x8fr-q4ce"], shown_once: true }),
    });
    renderAt("/security");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Make new recovery codes" }));
    await user.click(screen.getByRole("button", { name: "Make new codes" }));
    expect(await screen.findByText("k7hm-2qpx-9wzt")).toBeInTheDocument();
    expect(screen.getByText(/shown only once/)).toBeInTheDocument();
  });
});

describe("links sent by email", () => {
  it("confirms the address from the link's fragment, once", async () => {
    const calls = answering(null, {
      "POST /api/account/email/verify": () => new Response(null, { status: 204 }),
    });
    renderAt("/verify-email#token=t0ken");
    expect(await screen.findByText(/Your email address is confirmed/)).toBeInTheDocument();
    const posted = calls.filter((c) => c.url === "/api/account/email/verify");
    expect(posted.map((c) => c.body)).toEqual([{ token: "t0ken" }]);
  });

  it("says a used link no longer works, in plain words", async () => {
    answering(null, {
      "POST /api/account/email/verify": () =>
        json(400, apiError("link_invalid", "This link was used already or has expired.")),
    });
    renderAt("/verify-email#token=old");
    expect(await screen.findByRole("alert")).toHaveTextContent("This link no longer works");
  });

  it("asks for a reset link, then chooses the new password from it", async () => {
    const calls = answering(null, {
      "POST /api/auth/password-reset": () =>
        json(202, { message: "If that address belongs to an account, we sent it a link." }),
      "POST /api/auth/password-reset/confirm": () => new Response(null, { status: 204 }),
    });
    renderAt("/signin");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("link", { name: "Forgot your password?" }));
    await user.type(await screen.findByLabelText("Email"), "ada@example.com");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(await screen.findByText(/we sent it a link/)).toBeInTheDocument();

    renderAt("/reset-password#token=r3set");
    const [chooser] = await screen.findAllByRole("heading", { name: "Choose a new password" });
    const form = chooser!.closest("section")!;
    await user.type(within(form).getByLabelText("New password"), "staple orbit lantern");
    await user.type(within(form).getByLabelText("New password, again"), "staple orbit lantern");
    await user.click(within(form).getByRole("button", { name: "Save the new password" }));
    expect(await within(form).findByRole("status")).toHaveTextContent("Your password is changed");
    const confirmed = calls.find((c) => c.url === "/api/auth/password-reset/confirm");
    expect(confirmed?.body).toEqual({ token: "r3set", new_password: "staple orbit lantern" });
  });

  it("reminds an unconfirmed address on every page and sends the link again", async () => {
    const calls = answering(
      { ...PATIENT, email_verified: false },
      {
        "GET /api/account/sessions": () => json(200, SESSIONS),
        "POST /api/account/email/verification": () => json(200, { sent: true }),
      },
    );
    renderAt("/security");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Send the link again" }));
    expect(await screen.findByText(/We sent a new link to ada@example.com/)).toBeInTheDocument();
    expect(calls.some((c) => c.url === "/api/account/email/verification")).toBe(true);
  });

  it("says the last link still works when a new one may not go yet", async () => {
    answering(
      { ...PATIENT, email_verified: false },
      {
        "GET /api/account/sessions": () => json(200, SESSIONS),
        "POST /api/account/email/verification": () => json(200, { sent: false }),
      },
    );
    renderAt("/security");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Send the link again" }));
    expect(await screen.findByText(/within the last hour, and it still works/)).toBeInTheDocument();
  });
});

describe("units", () => {
  it("lets a patient choose pounds and saves the choice with the profile", async () => {
    const profileBody = {
      email: PATIENT.email,
      display_name: "Ada",
      date_of_birth: null,
      units: { mass: "kg", temperature: "C", glucose: "mg/dL" },
    };
    const calls = answering(
      { ...PATIENT, units: profileBody.units },
      {
        "GET /api/profile": () => json(200, profileBody),
        "GET /api/observations/types": () => json(200, TYPES),
        "PATCH /api/profile": (call) =>
          json(200, { ...profileBody, units: (call.body as { units: object }).units }),
      },
    );
    renderAt("/profile");
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Body weight"), "lb");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved.")).toBeInTheDocument();
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.body).toMatchObject({ units: { mass: "lb" } });
  });
});

describe("deleting one's account", () => {
  it("shows what happens before asking, then how to keep the account", async () => {
    let due: string | null = null;
    const calls = answering(
      { ...PATIENT, deletion_due_at: null },
      {
        "POST /api/account/deletion": () => {
          due = "2026-12-30T08:30:00Z";
          return json(200, { due_at: due });
        },
        "DELETE /api/account/deletion": () => {
          due = null;
          return new Response(null, { status: 204 });
        },
      },
    );
    renderAt("/your-data");
    const user = userEvent.setup();
    const section = (await screen.findByRole("heading", { name: "Delete your account" })).closest(
      "section",
    )!;
    expect(section).toHaveTextContent("Nothing is deleted for 30 days");
    expect(section).toHaveTextContent("kept for six years");
    await user.click(within(section).getByRole("button", { name: "Delete my account" }));
    expect(within(section).getByText(/Tick the box/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false); // nothing asked yet
    await user.type(within(section).getByLabelText("Password"), "correct horse battery");
    await user.click(within(section).getByRole("checkbox"));
    await user.click(within(section).getByRole("button", { name: "Delete my account" }));
    const reminder = await screen.findByText(/will be deleted on/, { selector: ".reminder" });
    await user.click(within(reminder).getByRole("button", { name: "Keep my account" }));
    expect(await screen.findByRole("button", { name: "Delete my account" })).toBeInTheDocument();
    expect(calls.filter((c) => c.url === "/api/account/deletion").map((c) => c.method)).toEqual([
      "POST",
      "DELETE",
    ]);
    expect(due).toBeNull();
  });
});
