import { useState } from "react";

import { observations } from "../api/endpoints";
import type { Observation, ObservationType } from "../api/types";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { PagedTable } from "../components/PagedTable";
import { formatDateTime, fromLocalInput } from "../lib/format";
import { formatReading, useUnitChoices } from "../lib/units";
import { useLoad } from "../lib/useLoad";
import { TypeOptions } from "./TypeOptions";
import { ObservationForm } from "./ObservationForm";
import { RangeBadge } from "./RangeBadge";
import { changesOf } from "./validation";
import type { ObservationDraft } from "./validation";

const PAGE_SIZE = 20;

const BACKWARDS = "The end is before the start.";

export function ObservationList({
  types,
  version,
  onChanged,
}: {
  types: readonly ObservationType[];
  version: number;
  onChanged: () => void;
}) {
  const [type, setType] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<Observation | null>(null);
  const choices = useUnitChoices();
  const [actionError, setActionError] = useState<unknown>();
  const filter = {
    type: type || undefined,
    from: fromLocalInput(from) ?? undefined,
    to: fromLocalInput(to) ?? undefined,
    limit: PAGE_SIZE,
    offset,
  };
  // An end before the start is said so, not answered with an empty list.
  const backwards = Boolean(filter.from && filter.to && filter.from > filter.to);
  const page = useLoad(() => observations.list(filter), [type, from, to, offset, version]);
  const display = (code: string) => types.find((t) => t.code === code)?.display ?? code;

  function filterBy(update: () => void) {
    update();
    setOffset(0);
  }

  async function save(target: Observation, draft: ObservationDraft) {
    const kind = types.find((t) => t.code === target.type);
    if (kind) await observations.update(target.id, changesOf(kind, target, draft, choices));
    setEditing(null);
    onChanged();
  }

  async function remove(target: Observation) {
    setActionError(undefined);
    try {
      await observations.remove(target.id);
      onChanged();
    } catch (failure) {
      setActionError(failure);
    }
  }

  return (
    <section aria-labelledby="list-title">
      <h2 id="list-title">Measurements</h2>
      <form
        className="filters row"
        aria-label="Filter measurements"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field label="Type">
          {(control) => (
            <select
              {...control}
              value={type}
              onChange={(e) => filterBy(() => setType(e.target.value))}
            >
              <option value="">All types</option>
              <TypeOptions types={types} />
            </select>
          )}
        </Field>
        <Field label="From">
          {(control) => (
            <input
              {...control}
              type="datetime-local"
              value={from}
              onChange={(e) => filterBy(() => setFrom(e.target.value))}
            />
          )}
        </Field>
        <Field label="To" error={backwards ? BACKWARDS : undefined}>
          {(control) => (
            <input
              {...control}
              type="datetime-local"
              value={to}
              onChange={(e) => filterBy(() => setTo(e.target.value))}
            />
          )}
        </Field>
      </form>
      <ErrorNotice error={page.error} onRetry={page.reload} />
      <ErrorNotice error={actionError} />
      {editing ? (
        <ObservationForm
          key={editing.id}
          types={types}
          editing={editing}
          onSave={(draft) => save(editing, draft)}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      <PagedTable
        columns={["Measured at", "Type", "Value", "Note"]}
        actions
        page={page.data}
        empty="No measurements match."
        label="Measurement pages"
        limit={PAGE_SIZE}
        offset={offset}
        onOffset={setOffset}
        row={(o) => ({
          key: o.id,
          cells: [
            formatDateTime(o.effective_at),
            display(o.type),
            <>
              {formatReading(
                o,
                types.find((t) => t.code === o.type),
                choices,
              )}{" "}
              <RangeBadge observation={o} kind={types.find((t) => t.code === o.type)} />
            </>,
            o.note,
            <>
              <button
                type="button"
                onClick={() => setEditing(o)}
                aria-label={`Edit ${display(o.type)} of ${formatDateTime(o.effective_at)}`}
              >
                Edit
              </button>
              <ConfirmButton
                label="Delete"
                question={`Delete the ${display(o.type).toLowerCase()} of ${formatDateTime(o.effective_at)}?`}
                confirmLabel="Delete measurement"
                onConfirm={() => remove(o)}
              />
            </>,
          ],
        })}
      />
    </section>
  );
}
