import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, useLocation } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { AppRoutes } from "../App";
import { SessionProvider } from "../auth/session";
import { apiError, json, stubFetch } from "../test/fetch";
import { newPasswordProblems } from "../components/NewPasswordFields";
import { PASSWORD_SET, tokenFrom } from "./Enroll";

const TOKEN = "q1V8n3XyT0bW5cZ2kR7mJ4hL9fD6sA0gE3uI8oP1yK2";
const PASSWORD = "correct horse battery staple";

/** The address bar, as far as the test can see one. */
function Address() {
  const { pathname, hash } = useLocation();
  return <span data-testid="address">{pathname + hash}</span>;
}

function renderAt(path: string) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <SessionProvider>
        <AppRoutes />
      </SessionProvider>
      <Address />
    </MemoryRouter>,
  );
}

/** Nobody signed in; `accept` answers the invitation. */
function stubApi(accept: () => Response) {
  return stubFetch((call) =>
    call.url === "/api/auth/invitations/accept"
      ? accept()
      : json(401, apiError("unauthenticated", "Sign in first.")),
  );
}

async function choose(password: string, confirmation = password) {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("New password"), password);
  await user.type(screen.getByLabelText("New password, again"), confirmation);
  await user.click(screen.getByRole("button", { name: "Set password" }));
}

afterEach(() => vi.unstubAllGlobals());

describe("the enrollment link", () => {
  it("carries the token in its fragment", () => {
    expect(tokenFrom(`#token=${TOKEN}`)).toBe(TOKEN);
    expect(tokenFrom("")).toBeNull();
    expect(tokenFrom("#token=")).toBeNull();
    expect(tokenFrom("#token=short")).toBeNull();
    expect(tokenFrom("#token=has spaces and more than sixteen")).toBeNull();
  });

  it("checks the password as the API does, and that both entries agree", () => {
    const problems = (password: string, again: string) =>
      newPasswordProblems({ password, again }, "password");
    expect(problems(PASSWORD, PASSWORD)).toEqual({});
    expect(problems("short", "short")).toEqual({ password: "Use at least 12 characters." });
    expect(problems("x".repeat(257), "").password).toBe("Use at most 256 characters.");
    expect(problems(PASSWORD, `${PASSWORD}!`)).toEqual({ again: "The two passwords differ." });
  });
});

describe("setting an invited administrator's password", () => {
  it("sends the token and the password, then asks to sign in", async () => {
    const calls = stubApi(() => new Response(null, { status: 204 }));
    renderAt(`/enroll#token=${TOKEN}`);
    expect(await screen.findByLabelText("New password")).toBeInTheDocument();
    expect(screen.getByTestId("address")).toHaveTextContent(/^\/enroll$/); // the token forgotten
    await choose(PASSWORD);
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent(PASSWORD_SET);
    const accepted = calls.filter((c) => c.url === "/api/auth/invitations/accept");
    expect(accepted.map((c) => [c.method, c.body])).toEqual([
      ["POST", { token: TOKEN, password: PASSWORD }],
    ]);
  });

  it("says when the two entries differ, and sends nothing", async () => {
    const calls = stubApi(() => new Response(null, { status: 204 }));
    renderAt(`/enroll#token=${TOKEN}`);
    await choose(PASSWORD, "correct horse battery stapler");
    expect(await screen.findByText("The two passwords differ.")).toBeInTheDocument();
    expect(calls.some((c) => c.url === "/api/auth/invitations/accept")).toBe(false);
  });

  it("explains a link that was used or has expired", async () => {
    stubApi(() =>
      json(
        410,
        apiError("invitation_expired", "This enrollment link has expired; ask for a new one."),
      ),
    );
    renderAt(`/enroll#token=${TOKEN}`);
    await choose(PASSWORD);
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "This enrollment link has expired; ask for a new one.",
    );
    expect(screen.getByRole("heading", { name: "Set your password" })).toBeInTheDocument();
  });

  it("shows the API's problem with the password beside it", async () => {
    stubApi(() =>
      json(
        422,
        apiError("invalid_request", "The request is not valid.", [
          { field: "password", problem: "String should have at least 12 characters" },
        ]),
      ),
    );
    renderAt(`/enroll#token=${TOKEN}`);
    await choose("            twelve");
    expect(
      await screen.findByText("String should have at least 12 characters"),
    ).toBeInTheDocument();
  });

  it("asks for the whole link when the page is opened without its token", async () => {
    const calls = stubApi(() => new Response(null, { status: 204 }));
    renderAt("/enroll");
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "This page needs your whole enrollment link.",
    );
    expect(screen.queryByLabelText("New password")).toBeNull();
    expect(calls.some((c) => c.url === "/api/auth/invitations/accept")).toBe(false);
  });
});
