import { describe, expect, it } from "vitest";

import { registrationProblems } from "./SignUp";

describe("registration rules (the API's)", () => {
  const good = { email: "ada@example.com", password: "correct horse battery", displayName: "Ada" };

  it("accepts a good registration", () => {
    expect(registrationProblems(good)).toEqual({});
  });

  it("lists every problem at once", () => {
    expect(registrationProblems({ email: "ada", password: "short", displayName: "  " })).toEqual({
      email: "Enter an email address such as name@example.com.",
      password: "Use at least 12 characters.",
      display_name: "Enter a name of 1 to 100 characters.",
    });
    expect(registrationProblems({ ...good, password: "x".repeat(257) }).password).toBe(
      "Use at most 256 characters.",
    );
  });
});
