import { describe } from "../lib/problems";
import { ProblemPage } from "./ProblemPage";

/**
 * A failed request, explained. `page`: the failure is the whole page's (its data could not
 * be loaded), so 403 and 404 become a clear page of their own.
 */
export function ErrorNotice({
  error,
  onRetry,
  page = false,
}: {
  error: unknown;
  onRetry?: () => void;
  page?: boolean;
}) {
  if (!error) return null;
  const problem = describe(error);
  if (page && (problem.kind === "forbidden" || problem.kind === "not-found")) {
    return <ProblemPage title={problem.title} message={problem.message} />;
  }
  return (
    <div className={`notice notice-error notice-${problem.kind}`} role="alert">
      <strong>{problem.title}.</strong> {problem.message}
      {problem.retryable && onRetry ? (
        <button type="button" className="link-button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}
