import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { UploadPanel } from "./UploadPanel";
import { refusal } from "./uploads";

const LIMITS = { max_bytes: 1024, accepted_types: ["application/pdf", "image/png"] };

afterEach(() => vi.unstubAllGlobals());

describe("uploads", () => {
  it("shows the limit before anything is chosen", () => {
    render(<UploadPanel limits={LIMITS} onUploaded={() => {}} />);
    expect(screen.getByText(/PDF, PNG; up to 1.0 KB each/)).toBeInTheDocument();
  });

  it("refuses a file over the limit without sending it", async () => {
    const send = vi.fn();
    vi.stubGlobal("XMLHttpRequest", send);
    render(<UploadPanel limits={LIMITS} onUploaded={() => {}} />);
    const big = new File([new Uint8Array(2048)], "scan.pdf", { type: "application/pdf" });
    await userEvent.upload(screen.getByLabelText("Choose files…"), big);
    expect(await screen.findByRole("alert")).toHaveTextContent("2.0 KB is over the 1.0 KB limit.");
    expect(send).not.toHaveBeenCalled();
  });

  it("says why a file cannot go", () => {
    expect(refusal({ size: 0 }, LIMITS)).toBe("The file is empty.");
    expect(refusal({ size: 1024 }, LIMITS)).toBeNull();
  });
});
