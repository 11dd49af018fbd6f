import { lazy, Suspense, useState } from "react";

import { observations } from "../api/endpoints";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { useUnitChoices } from "../lib/units";
import { useLoad } from "../lib/useLoad";
import { LatestValues } from "../observations/LatestValues";
import { ObservationForm } from "../observations/ObservationForm";
import { ObservationList } from "../observations/ObservationList";
import { valuesOf } from "../observations/validation";
import type { ObservationDraft } from "../observations/validation";

// The chart library is most of the dashboard's code: loaded after the latest values show,
// which on a slow phone are there seconds sooner (`make bench-frontend`).
const ObservationChart = lazy(() =>
  import("../observations/ObservationChart").then((m) => ({ default: m.ObservationChart })),
);

const chartLoading = (
  <section className="chart" aria-labelledby="chart-title">
    <h2 id="chart-title">Trend</h2>
    <p className="loading">Loading the chart…</p>
  </section>
);

export function DashboardPage() {
  const { user } = useSession();
  // Bumped by every change, so the summary, the chart and the list load again.
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  const types = useLoad(() => observations.types(), []);
  const choices = useUnitChoices();
  const latest = useLoad(() => observations.latest(), [version]);

  async function add(draft: ObservationDraft) {
    const kind = types.data?.find((t) => t.code === draft.type);
    await observations.create({
      type: draft.type,
      ...(kind ? valuesOf(kind, draft, choices) : {}),
      unit: draft.unit,
      effective_at: draft.effectiveAt ?? "",
      note: draft.note.trim() || null,
    });
    changed();
  }

  if (types.error) return <ErrorNotice error={types.error} onRetry={types.reload} page />;
  if (!types.data) return <p className="loading">Loading…</p>;
  return (
    <>
      <h1>Hello, {user?.display_name}</h1>
      <ErrorNotice error={latest.error} onRetry={latest.reload} />
      {latest.data ? <LatestValues types={types.data} latest={latest.data} /> : null}
      {/* Asked for once the latest values are in: parsing the chart's code would hold the
          page while they arrive. */}
      {latest.data || latest.error ? (
        <Suspense fallback={chartLoading}>
          <ObservationChart types={types.data} version={version} />
        </Suspense>
      ) : (
        chartLoading
      )}
      <ObservationForm types={types.data} onSave={add} />
      <ObservationList types={types.data} version={version} onChanged={changed} />
    </>
  );
}
