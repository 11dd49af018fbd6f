/** Previous / next through a list the API pages with limit and offset. */
export function Pagination({
  total,
  limit,
  offset,
  onChange,
  label,
}: {
  total: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
  label: string;
}) {
  if (total === 0) return null;
  const first = offset + 1;
  const last = Math.min(offset + limit, total);
  return (
    <nav className="pagination" aria-label={label}>
      <button
        type="button"
        onClick={() => onChange(Math.max(0, offset - limit))}
        disabled={offset === 0}
      >
        Previous
      </button>
      <span aria-live="polite">
        {first}–{last} of {total}
      </span>
      <button type="button" onClick={() => onChange(offset + limit)} disabled={last >= total}>
        Next
      </button>
    </nav>
  );
}
