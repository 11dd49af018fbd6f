import { describe, expect, it } from "vitest";

import { ApiError } from "../api/client";
import { afterRegistration, registrationProblems } from "./SignUp";

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

describe("a sign-in that fails right after registering", () => {
  it("says the email may have an account, not that the password is wrong", () => {
    const wrong = new ApiError(401, "invalid_credentials", "Email or password is wrong.");
    const said = afterRegistration(wrong) as ApiError;
    expect(said.code).toBe("email_has_account");
    expect(said.message).toContain("may have an account already");
  });

  it("passes any other failure on as it is", () => {
    const busy = new ApiError(503, "unavailable", "Try again shortly.");
    expect(afterRegistration(busy)).toBe(busy);
  });
});
