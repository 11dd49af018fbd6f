import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";

import { ApiError, NetworkError } from "../api/client";
import { ErrorNotice } from "./ErrorNotice";

describe("ErrorNotice", () => {
  it("tells how long to wait after a 429", () => {
    render(<ErrorNotice error={new ApiError(429, "rate_limited", "Too many requests", [], 42)} />);
    expect(screen.getByRole("alert")).toHaveTextContent(
      "Please wait 42 seconds before trying again.",
    );
  });

  it("offers a retry after a network failure", async () => {
    const retry = vi.fn();
    render(<ErrorNotice error={new NetworkError()} onRetry={retry} />);
    expect(screen.getByRole("alert")).toHaveTextContent("could not be reached");
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it("makes a whole page of a 403 or 404 that was the page's own", () => {
    render(
      <MemoryRouter>
        <ErrorNotice error={new ApiError(404, "not_found", "No such document.")} page />
      </MemoryRouter>,
    );
    expect(screen.getByRole("heading", { name: "Not found" })).toBeInTheDocument();
    expect(screen.getByText("No such document.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Go to your home page" })).toHaveAttribute("href", "/");
  });

  it("shows nothing without an error", () => {
    const { container } = render(<ErrorNotice error={undefined} />);
    expect(container).toBeEmptyDOMElement();
  });
});
