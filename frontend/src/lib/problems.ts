import { ApiError, NetworkError } from "../api/client";
import type { FieldProblem } from "../api/client";
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

/**
 * Problems by field, the first for each, as sentences shown under the field. The API words
 * a field's problem to follow the field's name in its summary ("effective at cannot be in
 * the future"); under the field itself that reads as "This cannot be in the future."
 */
export function byField(found: readonly FieldProblem[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const { field, problem } of found) map[field] ??= asSentence(problem);
  return map;
}

function asSentence(problem: string): string {
  if (!/^[a-z]/.test(problem)) return problem; // written as a sentence already
  return `This ${problem}${problem.endsWith(".") ? "" : "."}`;
}
