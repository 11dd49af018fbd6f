import type { ReactNode } from "react";

import type { Page } from "../api/types";
import { Pagination } from "./Pagination";

export interface Row {
  key: string;
  /** One cell per column, in order; the actions' cell last when `actions`. */
  cells: ReactNode[];
  /** Data attributes for the row (tests and styles find rows by them). */
  data?: Record<`data-${string}`, string>;
  className?: string;
}

/**
 * One page of a list the API pages (limit, offset): a table on a wide screen, a list of
 * cards on a phone (each cell labelled with its column, styles.css), a line when it is
 * empty, and previous / next.
 */
export function PagedTable<T>({
  columns,
  actions = false,
  page,
  empty,
  row,
  label,
  limit,
  offset,
  onOffset,
  className,
}: {
  columns: string[];
  /** A last column of buttons, its header named for screen readers only. */
  actions?: boolean;
  page: Page<T> | undefined;
  empty: string;
  row: (item: T) => Row;
  label: string;
  limit: number;
  offset: number;
  onOffset: (offset: number) => void;
  className?: string;
}) {
  if (!page) return null;
  if (page.items.length === 0) return <p className="empty">{empty}</p>;
  const labels = actions ? [...columns, "Actions"] : columns;
  return (
    <>
      <table className={`cards-on-phone ${className ?? ""}`.trim()}>
        <thead>
          <tr>
            {columns.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {page.items.map((item) => {
            const { key, cells, data, className: rowClass } = row(item);
            return (
              <tr key={key} className={rowClass} {...data}>
                {cells.map((cell, index) => (
                  <td
                    key={labels[index]}
                    data-label={labels[index]}
                    className={actions && index === cells.length - 1 ? "actions" : undefined}
                  >
                    {cell}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <Pagination
        label={label}
        total={page.total}
        limit={limit}
        offset={offset}
        onChange={onOffset}
      />
    </>
  );
}
