import type { ReactNode } from "react";

import type { Page } from "../api/types";
import { Pagination } from "./Pagination";

/**
 * One page of a list the API pages (limit, offset): a table that scrolls sideways inside
 * its own box on a narrow screen, a line when it is empty, and previous / next.
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
  row: (item: T) => ReactNode;
  label: string;
  limit: number;
  offset: number;
  onOffset: (offset: number) => void;
  className?: string;
}) {
  if (!page) return null;
  if (page.items.length === 0) return <p className="empty">{empty}</p>;
  return (
    <>
      <div className="table-scroll">
        <table className={className}>
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
          <tbody>{page.items.map(row)}</tbody>
        </table>
      </div>
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
