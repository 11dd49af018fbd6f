import { useState } from "react";
import type { FormEvent } from "react";

import { admin } from "../api/endpoints";
import type { AuditFilter } from "../api/endpoints";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { PagedTable } from "../components/PagedTable";
import { save } from "../lib/download";
import { formatDateTime, fromLocalInput } from "../lib/format";
import { useLoad } from "../lib/useLoad";

const PAGE_SIZE = 50;

// What an auditor looks for first: what was refused.
export const OUTCOMES = [
  { value: "", label: "Any outcome" },
  { value: "denied", label: "Denied" },
  { value: "refused", label: "Refused" },
  { value: "failure", label: "Failed" },
  { value: "success", label: "Done" },
] as const;

interface Filters {
  email: string;
  outcome: string;
  action: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { email: "", outcome: "", action: "", from: "", to: "" };

export function toQuery(filters: Filters, offset: number): AuditFilter {
  return {
    email: filters.email.trim() || undefined,
    outcome: filters.outcome || undefined,
    action: filters.action.trim() || undefined,
    from: fromLocalInput(filters.from) ?? undefined,
    to: fromLocalInput(filters.to) ?? undefined,
    limit: PAGE_SIZE,
    offset,
  };
}

const REFUSED = new Set(["denied", "refused", "failure", "locked", "not_found"]);

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [offset, setOffset] = useState(0);
  const [exportError, setExportError] = useState<unknown>();
  const [exporting, setExporting] = useState(false);
  const page = useLoad(() => admin.audit(toQuery(applied, offset)), [applied, offset]);
  const actions = useLoad(() => admin.auditActions(), []);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setApplied(draft);
    setOffset(0);
  }

  async function exportCsv() {
    setExportError(undefined);
    setExporting(true);
    try {
      save(await admin.auditCsv(toQuery(applied, 0)), "audit-log.csv");
    } catch (failure) {
      setExportError(failure);
    } finally {
      setExporting(false);
    }
  }

  const text = (key: "email" | "action", label: string) => (
    <Field label={label}>
      {(control) => (
        <input
          {...control}
          type={key === "email" ? "search" : "text"}
          value={draft[key]}
          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        />
      )}
    </Field>
  );
  const when = (key: "from" | "to", label: string) => (
    <Field label={label}>
      {(control) => (
        <input
          {...control}
          type="datetime-local"
          value={draft[key]}
          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        />
      )}
    </Field>
  );

  return (
    <>
      <h1>Audit log</h1>
      <form
        className="filters row"
        aria-label="Filter the audit log"
        onSubmit={onSubmit}
        noValidate
      >
        {text("email", "Who (email contains)")}
        <Field label="Outcome">
          {(control) => (
            <select
              {...control}
              value={draft.outcome}
              onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}
            >
              {OUTCOMES.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="What was done">
          {(control) => (
            <select
              {...control}
              value={draft.action}
              onChange={(e) => setDraft({ ...draft, action: e.target.value })}
            >
              <option value="">Anything</option>
              {(actions.data ?? []).map((a) => (
                <option key={a.action} value={a.action}>
                  {a.what}
                </option>
              ))}
            </select>
          )}
        </Field>
        {when("from", "From")}
        {when("to", "To")}
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <p>
        <button type="button" onClick={exportCsv} disabled={exporting}>
          {exporting ? "Preparing…" : "Export these records (CSV)"}
        </button>
      </p>
      <ErrorNotice error={exportError} />
      <ErrorNotice error={page.error} onRetry={page.reload} />
      <PagedTable
        columns={["When", "Who", "What", "Whom or what", "Address"]}
        className="audit"
        page={page.data}
        empty="No records match."
        label="Audit pages"
        limit={PAGE_SIZE}
        offset={offset}
        onOffset={setOffset}
        row={(r) => ({
          key: String(r.id),
          className: REFUSED.has(r.outcome) ? "refused" : undefined,
          cells: [
            formatDateTime(r.at),
            r.actor_email ? (
              <>
                {r.actor_name}
                <br />
                <span className="muted">{r.actor_email}</span>
              </>
            ) : (
              <span className="muted">{r.actor_id ? "A deleted account" : "Not signed in"}</span>
            ),
            <>
              {REFUSED.has(r.outcome) ? <span className="badge badge-refused">Refused</span> : null}{" "}
              {r.what}
            </>,
            <>
              {r.subject_name ? (
                <>
                  {r.subject_name}
                  <br />
                  <span className="muted">{r.subject_email}</span>
                  <br />
                </>
              ) : null}
              <span className={r.subject_name ? "muted" : undefined}>
                {r.resource_type} {r.resource_id ? <code>{r.resource_id}</code> : null}
              </span>
            </>,
            r.client_address ?? "—",
          ],
        })}
      />
    </>
  );
}
