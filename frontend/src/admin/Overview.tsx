import { useEffect } from "react";

import { admin } from "../api/endpoints";
import { ErrorNotice } from "../components/ErrorNotice";
import { useLoad } from "../lib/useLoad";

export const REFRESH_SECONDS = 5;

const LABELS = [
  ["active_sessions", "Active sessions"],
  ["requests_per_minute", "Requests this minute"],
  ["logins_per_minute", "Sign-ins this minute"],
  ["failed_logins_per_minute", "Failed sign-ins this minute"],
] as const;

/** The API's real-time counters, refreshed on their own every few seconds. */
export function OverviewPage() {
  const counters = useLoad(() => admin.counters(), []);
  const { reload } = counters;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_SECONDS * 1000);
    return () => clearInterval(timer);
  }, [reload]);

  return (
    <>
      <h1>Overview</h1>
      <p className="hint">Refreshes every {REFRESH_SECONDS} seconds.</p>
      <ErrorNotice error={counters.error} onRetry={reload} />
      {counters.data ? (
        <ul className="cards" aria-live="polite" aria-label="Counters">
          {LABELS.map(([key, label]) => (
            <li key={key} className="card" data-counter={key}>
              <span className="card-label">{label}</span>
              <span className="card-value">{counters.data?.[key]}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
