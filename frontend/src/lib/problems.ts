import { ApiError, NetworkError } from "../api/client";
import { ERROR_TITLES } from "./errorTitles";

export type ProblemKind = "forbidden" | "not-found" | "rate-limited" | "network" | "other";

export interface Problem {
  kind: ProblemKind;
  title: string;
  message: string;
  /** Whether trying again may help (shown as a Retry button). */
  retryable: boolean;
}

function waitText(seconds: number | null): string {
  if (seconds === null) return "Please wait a moment before trying again.";
  if (seconds < 60)
    return `Please wait ${seconds} second${seconds === 1 ? "" : "s"} before trying again.`;
  const minutes = Math.ceil(seconds / 60);
  return `Please wait ${minutes} minute${minutes === 1 ? "" : "s"} before trying again.`;
}

/** What to tell the user about a failed request. */
export function describe(error: unknown): Problem {
  if (error instanceof NetworkError) {
    return {
      kind: "network",
      title: "Connection problem",
      message: error.message,
      retryable: true,
    };
  }
  if (error instanceof ApiError) {
    if (error.status === 403) {
      return {
        kind: "forbidden",
        title: ERROR_TITLES[error.code] ?? "Access denied",
        message: error.message,
        retryable: false,
      };
    }
    if (error.status === 404) {
      return { kind: "not-found", title: "Not found", message: error.message, retryable: false };
    }
    if (error.status === 429) {
      return {
        kind: "rate-limited",
        title: "Too many requests",
        message: `You have sent too many requests. ${waitText(error.retryAfterSeconds)}`,
        retryable: true,
      };
    }
    return {
      kind: "other",
      title:
        ERROR_TITLES[error.code] ??
        (error.status >= 500 ? "The service had a problem" : "That did not work"),
      message: error.message,
      retryable: error.status >= 500,
    };
  }
  return {
    kind: "other",
    title: "Something went wrong",
    message: "An unexpected error occurred. Reload the page and try again.",
    retryable: true,
  };
}
