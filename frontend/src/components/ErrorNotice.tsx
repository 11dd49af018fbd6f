import { ApiError } from "../api/client";
import { describe } from "../lib/problems";
import { ProblemPage } from "./ProblemPage";

/**
 * A failed request, explained. `page`: the failure is the whole page's (its data could not
 * be loaded), so 403 and 404 become a clear page of their own. `fields`: the API's names of
 * the fields the form shows problems at; when each problem is shown there, this says so
 * instead of repeating them in the API's words (which name fields as the API does).
 */
export function ErrorNotice({
  error,
  onRetry,
  page = false,
  fields,
}: {
  error: unknown;
  onRetry?: () => void;
  page?: boolean;
  fields?: readonly string[];
}) {
  if (!error) return null;
  const problem = describe(error);
  if (page && (problem.kind === "forbidden" || problem.kind === "not-found")) {
    return <ProblemPage title={problem.title} message={problem.message} />;
  }
  return (
    <div className={`notice notice-error notice-${problem.kind}`} role="alert">
      <strong>{problem.title}.</strong>{" "}
      {fields && allShownAt(error, fields)
        ? "Each marked field says what to change."
        : problem.message}
      {problem.retryable && onRetry ? (
        <button type="button" className="link-button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

function allShownAt(error: unknown, fields: readonly string[]): boolean {
  if (!(error instanceof ApiError) || error.details.length === 0) return false;
  return error.details.every((d) =>
    fields.some((f) => d.field === f || d.field.startsWith(`${f}.`)),
  );
}
