import { describe, expect, it } from "vitest";

import { formatBytes, formatNumber, fromLocalInput, toLocalInput } from "./format";

describe("format", () => {
  it("prints sizes people read", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(100 * 1024 * 1024)).toBe("100 MB");
  });

  it("prints numbers as the API's messages do", () => {
    expect(formatNumber(0.5)).toBe("0.5");
    expect(formatNumber(300)).toBe("300");
    expect(formatNumber(36.6)).toBe("36.6");
  });

  it("turns a datetime-local value into an instant with its zone, and back", () => {
    const iso = fromLocalInput("2026-11-25T08:30");
    expect(iso).toMatch(/Z$/);
    expect(toLocalInput(iso as string)).toBe("2026-11-25T08:30");
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("not a date")).toBeNull();
  });
});
