import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../api/client";
import { ObservationForm } from "./ObservationForm";
import { TYPES } from "../test/fixtures";
import type { ObservationDraft } from "./validation";

async function fillIn(value: string) {
  const user = userEvent.setup();
  await user.selectOptions(screen.getByLabelText("Type"), "heart_rate");
  await user.clear(screen.getByLabelText("Value (bpm)"));
  await user.type(screen.getByLabelText("Value (bpm)"), value);
  await user.click(screen.getByRole("button", { name: "Add" }));
}

describe("ObservationForm", () => {
  it("refuses an out-of-range value before sending, on the field, in the API's words", async () => {
    const onSave = vi.fn();
    render(<ObservationForm types={TYPES} onSave={onSave} />);
    await fillIn("400");
    expect(onSave).not.toHaveBeenCalled();
    const field = screen.getByLabelText("Value (bpm)");
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(field).toHaveAccessibleDescription(/Heart rate must be between 20 and 300 bpm/);
  });

  it("sends a good measurement with the type's unit and an instant with its zone", async () => {
    const onSave = vi.fn(async (_draft: ObservationDraft) => {});
    render(<ObservationForm types={TYPES} onSave={onSave} />);
    await fillIn("62");
    expect(onSave).toHaveBeenCalledOnce();
    const draft = onSave.mock.calls[0]?.[0];
    expect(draft).toMatchObject({ type: "heart_rate", value: "62", unit: "/min" });
    expect(draft?.effectiveAt).toMatch(/Z$/);
    expect(screen.getByLabelText("Value (bpm)")).toHaveValue(""); // ready for the next one
  });

  it("shows the API's message at the field when the API refuses anyway", async () => {
    const refusal = new ApiError(
      422,
      "invalid_observation",
      "Heart rate must be between 20 and 250 /min.",
      [{ field: "value", problem: "Heart rate must be between 20 and 250 /min" }],
    );
    render(<ObservationForm types={TYPES} onSave={vi.fn(async () => Promise.reject(refusal))} />);
    await fillIn("280");
    // Said once, at the field; the notice above points there, not in the API's field names.
    expect(screen.getByRole("alert")).toHaveTextContent("Each marked field says what to change.");
    expect(screen.getByLabelText("Value (bpm)")).toHaveAccessibleDescription(/between 20 and 250/);
    expect(screen.getByLabelText("Value (bpm)")).toHaveValue("280"); // nothing the user typed is lost
  });

  it("keeps the API's own words for a problem no field shows", async () => {
    const refusal = new ApiError(422, "invalid_request", "Please check: source is not valid.", [
      { field: "source", problem: "is not valid" },
    ]);
    render(<ObservationForm types={TYPES} onSave={vi.fn(async () => Promise.reject(refusal))} />);
    await fillIn("80");
    expect(screen.getByRole("alert")).toHaveTextContent("Please check: source is not valid.");
  });
});
